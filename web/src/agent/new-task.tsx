import { useEffect, useMemo, useState } from "preact/hooks";
import { gql } from "../api";
import { EstimateCost, PostTask, TaskTypeValues, TestScenarioValues, type EstimateCostResult, type Mode, type TaskType, type TestScenario } from "../graphql/operations.generated";
import { navigate } from "../router";
import { ErrorBox, Field, localDateTime, money, useAction, useTitle } from "../ui";

const SCENARIO_HELP: Record<TestScenario, string> = {
  APPROVE: "the mock operator's proof is approved and paid",
  REJECT: "the proof is rejected",
  REVIEW: "the proof lands in manual review",
  MANUAL: "nothing automatic: a real operator (you, in the operator app) takes it",
  FRAUD: "the mock operator sends reused photos",
  EXPIRE: "nobody takes it and it expires",
};

/** Post a task: terms, place, reward with its cost worked out live, and (test keys) the scenario to walk. */
export function NewTask(props: { mode: Mode | undefined; onPosted: () => void }) {
  const [reward, setReward] = useState("15");
  const [estimate, setEstimate] = useState<EstimateCostResult["estimateCost"] | undefined>(undefined);
  const [estimateError, setEstimateError] = useState<unknown>(undefined);
  const { busy, error, setError, run } = useAction();
  const [locating, setLocating] = useState(false);
  const [lat, setLat] = useState("");
  const [lng, setLng] = useState("");
  // One key per form: a double submit or a retry after a lost answer posts the task once.
  const idempotencyKey = useMemo(() => crypto.randomUUID(), []);
  useTitle("Post a task");
  // Computed once and given as the default (not a controlled value): a re-render must not overwrite the deadline picked.
  const defaultDeadline = useMemo(() => localDateTime(new Date(Date.now() + 86_400_000)), []);

  useEffect(() => {
    const value = reward.trim();
    if (!/^\d+(\.\d{1,6})?$/.test(value) || Number(value) <= 0) {
      setEstimate(undefined);
      setEstimateError(value ? new Error("Reward: a positive USD amount with at most 6 decimals, e.g. 15 or 12.50") : undefined);
      return;
    }
    const timer = setTimeout(() => {
      gql(EstimateCost, { rewardUsd: value })
        .then(({ estimateCost }) => {
          setEstimate(estimateCost);
          setEstimateError(undefined);
        })
        .catch((err) => {
          setEstimate(undefined);
          setEstimateError(err);
        });
    }, 250);
    return () => clearTimeout(timer);
  }, [reward]);

  const useMyLocation = () => {
    setLocating(true);
    navigator.geolocation.getCurrentPosition(
      (position) => {
        setLat(position.coords.latitude.toFixed(6));
        setLng(position.coords.longitude.toFixed(6));
        setLocating(false);
      },
      (err) => {
        setError(new Error(`Your location is not available (${err.message}): type the latitude and longitude`));
        setLocating(false);
      },
    );
  };

  return (
    <form
      class="card"
      aria-labelledby="new-task-title"
      onSubmit={async (event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        const text = (name: string) => String(form.get(name) ?? "").trim();
        const deadline = new Date(text("deadline"));
        if (Number.isNaN(deadline.getTime())) return setError(new Error("Deadline: pick a date and time"));
        await run(async () => {
          const { postTask } = await gql(PostTask, {
            input: {
              title: text("title"),
              description: text("description"),
              taskType: text("taskType") as TaskType,
              location: { lat: Number(lat), lng: Number(lng), address: text("address") || null },
              rewardUsd: reward.trim(),
              deadline: deadline.toISOString(),
              proofRequirements: text("requirements")
                .split("\n")
                .map((line) => line.trim())
                .filter(Boolean),
              maxAttempts: Number(text("maxAttempts")) || null,
              reviewWindowMinutes: Number(text("reviewWindowMinutes")) || null,
              testScenario: props.mode === "TEST" ? (text("testScenario") as TestScenario) : null,
              idempotencyKey,
            },
          });
          props.onPosted();
          navigate(`/tasks/${postTask.id}`);
        });
      }}
    >
      <h1 id="new-task-title">Post a task</h1>
      <Field label="Title">
        <input name="title" required maxLength={200} placeholder="Photo of the storefront at 123 Main St" />
      </Field>
      <Field label="What the operator must do">
        <textarea name="description" required maxLength={5000} rows={4} />
      </Field>
      <div class="row">
        <Field label="Type">
          <select name="taskType" required>
            {TaskTypeValues.map((type) => (
              <option key={type} value={type} selected={type === "PHOTO"}>
                {type.charAt(0) + type.slice(1).toLowerCase()}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Proof attempts allowed">
          <input name="maxAttempts" type="number" min={1} max={10} defaultValue="3" />
        </Field>
      </div>
      <Field label="Proof requirements" hint="One per line, e.g. “Full facade photo”">
        <textarea name="requirements" rows={3} />
      </Field>
      <fieldset>
        <legend>Where</legend>
        <div class="row">
          <Field label="Latitude">
            <input name="lat" required inputMode="decimal" value={lat} onInput={(event) => setLat(event.currentTarget.value)} pattern="-?\d+(\.\d+)?" />
          </Field>
          <Field label="Longitude">
            <input name="lng" required inputMode="decimal" value={lng} onInput={(event) => setLng(event.currentTarget.value)} pattern="-?\d+(\.\d+)?" />
          </Field>
        </div>
        <button type="button" class="secondary" onClick={useMyLocation} disabled={locating}>
          {locating ? "Locating…" : "Use my location"}
        </button>
        <Field label="Address (optional)">
          <input name="address" maxLength={500} autocomplete="street-address" />
        </Field>
      </fieldset>
      <div class="row">
        <Field label="Reward (USD)" hint="Paid to the operator in USDC">
          <input name="reward" required inputMode="decimal" value={reward} onInput={(event) => setReward(event.currentTarget.value)} />
        </Field>
        <Field label="Deadline">
          <input name="deadline" type="datetime-local" required defaultValue={defaultDeadline} />
        </Field>
      </div>
      <Field label="Review window in minutes (optional)" hint="Holds the payout this long after the proof is verified, so you can check it and dispute it (5 to 10080); empty pays at once">
        <input name="reviewWindowMinutes" type="number" min={5} max={10080} />
      </Field>
      <div class="estimate" aria-live="polite" data-testid="estimate">
        {estimate ? (
          <span>
            Reward {money(estimate.reward)} + fee {money(estimate.fee)} ({estimate.feeBps / 100}%) = <strong>{money(estimate.total)}</strong> moved into escrow
          </span>
        ) : (
          <ErrorBox error={estimateError} />
        )}
      </div>
      {props.mode === "TEST" ? (
        <Field label="Test scenario" hint="Test keys only: which way the task's life goes">
          <select name="testScenario">
            {TestScenarioValues.map((scenario) => (
              <option key={scenario} value={scenario}>
                {scenario}: {SCENARIO_HELP[scenario]}
              </option>
            ))}
          </select>
        </Field>
      ) : null}
      <ErrorBox error={error} title="The task was not posted" />
      <button type="submit" disabled={busy}>
        {busy ? "Posting…" : "Post task"}
      </button>
    </form>
  );
}
