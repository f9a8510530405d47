import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { appConfig, gql, type Session } from "../api";
import { NotFound } from "../live-task";
import { AcceptTask, AvailableTasks, MyTasks, OperatorOverview, StartKyc, type AvailableTasksResult, type OperatorOverviewResult } from "../graphql/operations.generated";
import { TaskMap, type MapPoint } from "../map";
import { Link, match, navigate, usePath } from "../router";
import { ErrorBox, Field, money, relative, Section, Spinner, StatusBadge, useAction, useLoad, useTitle } from "../ui";
import { OperatorTaskPage } from "./task-page";

/** The operator's app: identity check, tasks nearby, the tasks they hold, and proof. */
export function OperatorApp(_props: { session: Session }) {
  const path = usePath();
  const overview = useLoad(() => gql(OperatorOverview), []);
  const task = match("/tasks/:id", path);
  return (
    <div class="operator">
      <nav class="subnav" aria-label="Operator">
        <Link href="/" class={path === "/" ? "active" : undefined} aria-current={path === "/" ? "page" : undefined}>
          Find tasks
        </Link>
        <Link href="/mine" class={path === "/mine" ? "active" : undefined} aria-current={path === "/mine" ? "page" : undefined}>
          My tasks
        </Link>
        {overview.data ? (
          <span class="balance" data-testid="earnings">
            Earned <strong>{money(overview.data.viewerOperator.earnings)}</strong>
          </span>
        ) : null}
      </nav>
      {path === "/" ? (
        <>
          <KycCard overview={overview.data?.viewerOperator} error={overview.error} reload={overview.reload} />
          <Nearby />
        </>
      ) : path === "/mine" ? (
        <MyTaskList />
      ) : task ? (
        <OperatorTaskPage id={task.id} onPaid={() => void overview.reload()} />
      ) : (
        <NotFound />
      )}
    </div>
  );
}

/** The part of Sumsub's WebSDK builder the app uses (snsWebSdk.init(...).withConf(...).withOptions(...).on(...).build().launch(...)). */
interface SumsubBuilder {
  withConf(conf: Record<string, unknown>): SumsubBuilder;
  withOptions(options: Record<string, unknown>): SumsubBuilder;
  on(event: string, handler: (...args: unknown[]) => void): SumsubBuilder;
  build(): { launch(selector: string): void };
}

declare global {
  interface Window {
    snsWebSdk?: { init(accessToken: string, refresh: () => Promise<string>): SumsubBuilder };
  }
}

/** Loads the Sumsub WebSDK script from the configured URL, once. */
let sdkScript: Promise<void> | undefined;
function loadSumsub(url: string): Promise<void> {
  sdkScript ??= new Promise<void>((resolve, reject) => {
    const script = document.createElement("script");
    script.src = url;
    script.async = true;
    script.onload = () => resolve();
    script.onerror = () => {
      sdkScript = undefined;
      reject(new Error("The identity verification service could not be loaded: try again in a moment"));
    };
    document.head.appendChild(script);
  });
  return sdkScript;
}

function KycCard(props: { overview: OperatorOverviewResult["viewerOperator"] | undefined; error: unknown; reload: () => Promise<void> }) {
  const { busy, error, run } = useAction();
  const [open, setOpen] = useState(false);
  const operator = props.overview;
  if (props.error) return <ErrorBox error={props.error} />;
  if (!operator) return null;
  const status = operator.kycStatus;

  const verify = () =>
    run(async () => {
      const config = await appConfig();
      if (!config.sumsub_websdk_url) throw new Error("Identity verification is not configured on this server");
      const { startKyc } = await gql(StartKyc);
      await loadSumsub(config.sumsub_websdk_url);
      if (!window.snsWebSdk) throw new Error("The identity verification service did not start");
      setOpen(true);
      window.snsWebSdk
        .init(startKyc.accessToken, async () => (await gql(StartKyc)).startKyc.accessToken)
        .withConf({ lang: document.documentElement.lang || "en" })
        .withOptions({ addViewportTag: false, adaptIframeHeight: true })
        .on("idCheck.onApplicantStatusChanged", () => void props.reload())
        .build()
        .launch("#sumsub-websdk-container");
    });

  return (
    <Section title="Identity" id="kyc">
      <p data-kyc-status={status}>
        {status === "NOT_REQUIRED"
          ? "Test mode: test tasks need no identity check."
          : status === "APPROVED"
            ? "Verified: you can take live tasks."
            : status === "REJECTED"
              ? `Verification was rejected${operator.kyc?.reason ? `: ${operator.kyc.reason}` : "."}`
              : "Not verified yet: live tasks need an identity check."}
      </p>
      {operator.kyc?.reviewStatus ? <p class="muted small">Review status: {operator.kyc.reviewStatus}{operator.kyc.rejectType === "RETRY" ? " (you may resubmit)" : ""}</p> : null}
      {status === "PENDING" || (status === "REJECTED" && operator.kyc?.rejectType === "RETRY") ? (
        <button type="button" onClick={verify} disabled={busy}>
          {busy ? "Opening…" : "Verify identity"}
        </button>
      ) : null}
      <ErrorBox error={error} />
      <div id="sumsub-websdk-container" class={open ? "kyc-frame" : undefined} />
    </Section>
  );
}

type Found = AvailableTasksResult["availableTasks"][number];

/** Open tasks around the browser's location or a typed point, nearest first, on a list and a map. */
function Nearby() {
  const [point, setPoint] = useState<{ lat: number; lng: number } | undefined>(undefined);
  const [radius, setRadius] = useState("10");
  const [found, setFound] = useState<Found[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [locating, setLocating] = useState(false);
  const [accepting, setAccepting] = useState<string | undefined>(undefined);
  const latInput = useRef<HTMLInputElement>(null);
  const lngInput = useRef<HTMLInputElement>(null);
  useTitle("Find tasks");

  const search = async (at: { lat: number; lng: number }, km = radius) => {
    setPoint(at);
    setError(undefined);
    try {
      const { availableTasks } = await gql(AvailableTasks, { near: at, radiusKm: Number(km) || 10, first: 50 });
      setFound([...availableTasks].sort((a, b) => a.distanceKm - b.distanceKm));
    } catch (err) {
      setError(err);
    }
  };

  const locate = () => {
    if (!navigator.geolocation) return setError(new Error("This browser cannot tell your location: type a point instead"));
    setLocating(true);
    navigator.geolocation.getCurrentPosition(
      (position) => {
        setLocating(false);
        const at = { lat: position.coords.latitude, lng: position.coords.longitude };
        if (latInput.current) latInput.current.value = at.lat.toFixed(6);
        if (lngInput.current) lngInput.current.value = at.lng.toFixed(6);
        void search(at);
      },
      (err) => {
        setLocating(false);
        setError(new Error(`Your location is not available (${err.message}): type a point instead`));
      },
      { enableHighAccuracy: true, timeout: 15_000 },
    );
  };

  useEffect(() => {
    // Ask once on arrival only when the browser already allows it; otherwise wait for the button.
    void navigator.permissions
      ?.query({ name: "geolocation" })
      .then((state) => state.state === "granted" && locate())
      .catch(() => undefined);
  }, []);

  const points = useMemo<MapPoint[]>(() => {
    const list: MapPoint[] = (found ?? []).map((f) => ({ lat: f.task.location.lat, lng: f.task.location.lng, label: `${f.task.title} · ${money(f.task.reward)}`, kind: "task" }));
    if (point) list.push({ ...point, label: "You are here", kind: "here" });
    return list;
  }, [found, point]);

  return (
    <Section title="Tasks near you" id="nearby">
      <form
        class="search"
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          const lat = Number(form.get("lat"));
          const lng = Number(form.get("lng"));
          if (!Number.isFinite(lat) || lat < -90 || lat > 90) return setError(new Error("Latitude: a number from -90 to 90"));
          if (!Number.isFinite(lng) || lng < -180 || lng > 180) return setError(new Error("Longitude: a number from -180 to 180"));
          void search({ lat, lng });
        }}
      >
        <button type="button" onClick={locate} disabled={locating}>
          {locating ? "Finding you…" : "Use my location"}
        </button>
        <div class="row">
          <Field label="Latitude">
            <input ref={latInput} name="lat" inputMode="decimal" required />
          </Field>
          <Field label="Longitude">
            <input ref={lngInput} name="lng" inputMode="decimal" required />
          </Field>
          <Field label="Within (km)">
            <input name="radius" type="number" min={1} max={500} value={radius} onInput={(event) => setRadius(event.currentTarget.value)} />
          </Field>
        </div>
        <button type="submit" class="secondary">
          Search here
        </button>
      </form>
      <ErrorBox error={error} />
      {found ? (
        <>
          <TaskMap label="Tasks on a map" points={points} />
          {found.length === 0 ? <p class="muted">No open tasks within {radius} km.</p> : null}
          <ul class="plain nearby-list">
            {found.map(({ task, distanceKm }) => (
              <li key={task.id} class="task-card" data-task-id={task.id}>
                <h3>{task.title}</h3>
                <div>
                  <strong>{money(task.reward)}</strong> · {distanceKm < 1 ? `${Math.round(distanceKm * 1000)} m` : `${distanceKm.toFixed(1)} km`} away · due {relative(task.deadline)}
                  {task.mode === "TEST" ? <span class="badge mode-test">Test</span> : null}
                </div>
                <p class="muted small">{task.description}</p>
                <AgentRecordLine record={task.agentRecord} />
                {task.minCompletedTasks != null || task.minRating != null ? (
                  <p class="small minimums">
                    For operators with{" "}
                    {[
                      task.minCompletedTasks != null ? `at least ${task.minCompletedTasks} completed task${task.minCompletedTasks === 1 ? "" : "s"}` : null,
                      task.minRating != null ? `a rating of ${task.minRating} or more` : null,
                    ]
                      .filter(Boolean)
                      .join(" and ")}
                  </p>
                ) : null}
                {task.proofRequirements.length ? (
                  <ul class="requirements">
                    {task.proofRequirements.map((requirement) => (
                      <li key={requirement}>{requirement}</li>
                    ))}
                  </ul>
                ) : null}
                <button
                  type="button"
                  disabled={accepting !== undefined}
                  aria-label={`Accept ${task.title}`}
                  onClick={async () => {
                    setAccepting(task.id);
                    setError(undefined);
                    try {
                      await gql(AcceptTask, { id: task.id });
                      navigate(`/tasks/${task.id}`);
                    } catch (err) {
                      setError(err);
                      if (point) void search(point);
                    } finally {
                      setAccepting(undefined);
                    }
                  }}
                >
                  {accepting === task.id ? "Accepting…" : "Accept"}
                </button>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p class="muted">Share your location or type a point to see open tasks around it.</p>
      )}
    </Section>
  );
}

/** The posting agent's record, as an operator weighs it before accepting (docs/reputation.md). */
function AgentRecordLine(props: { record: Found["task"]["agentRecord"] }) {
  const { tasksPaid, paymentDisputeRate, meanManualReviewSeconds, averageRating, ratingCount } = props.record;
  const parts = [
    `${tasksPaid} paid task${tasksPaid === 1 ? "" : "s"}`,
    averageRating != null ? `rated ${averageRating} by ${ratingCount} operator${ratingCount === 1 ? "" : "s"}` : "not rated yet",
    paymentDisputeRate != null ? `disputes ${Math.round(paymentDisputeRate * 100)}%` : null,
    meanManualReviewSeconds != null ? `decides reviews in ${Math.max(1, Math.round(meanManualReviewSeconds / 60))} min on average` : null,
  ];
  return <p class="small agent-record">Agent: {parts.filter(Boolean).join(" · ")}</p>;
}

function MyTaskList() {
  const mine = useLoad(() => gql(MyTasks, { first: 50 }), []);
  useTitle("My tasks");
  if (mine.error) return <ErrorBox error={mine.error} />;
  if (!mine.data) return <Spinner />;
  const tasks = mine.data.myTasks.nodes;
  return (
    <Section title="My tasks" id="mine">
      {tasks.length === 0 ? (
        <p class="muted">
          You hold no tasks yet. <Link href="/">Find one nearby</Link>.
        </p>
      ) : (
        <ul class="plain">
          {tasks.map((task) => (
            <li key={task.id} class="task-card" data-task-id={task.id} data-status={task.status}>
              <Link href={`/tasks/${task.id}`} class="task-link">
                {task.title}
              </Link>{" "}
              <StatusBadge status={task.status} />
              <div class="muted small">
                {money(task.reward)} · due {relative(task.deadline)}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
