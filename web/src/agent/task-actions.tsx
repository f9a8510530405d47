import { useMemo, useState } from "preact/hooks";
import { gql } from "../api";
import { ChangeTask, DisputeTask, TipTask, type ChangeTaskInput, type TaskDetailFragment } from "../graphql/operations.generated";
import { dateTime, ErrorBox, Field, localDateTime, money, Section, useAction } from "../ui";

const lines = (text: string) =>
  text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);

/**
 * Change a task (changeTask): its title, description and proof
 * requirements while POSTED; a higher reward and a later deadline while
 * POSTED or ACCEPTED. Only what differs from the task is sent; the operator
 * holding it is told, and may give it back without penalty.
 */
export function ChangeForm(props: { task: TaskDetailFragment; onDone: (task: TaskDetailFragment) => void }) {
  const { task } = props;
  const [open, setOpen] = useState(false);
  const action = useAction();
  const initialDeadline = useMemo(() => localDateTime(new Date(task.deadline)), [task.deadline, open]);
  const textEditable = task.status === "POSTED";
  if (!open)
    return (
      <button type="button" class="secondary" onClick={() => setOpen(true)}>
        Change the task…
      </button>
    );
  return (
    <form
      class="inline-form change-form"
      aria-label="Change the task"
      onSubmit={async (event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        const value = (name: string) => String(form.get(name) ?? "").trim();
        const input: ChangeTaskInput = {};
        if (textEditable) {
          if (value("title") !== task.title) input.title = value("title");
          if (value("description") !== task.description) input.description = value("description");
          const requirements = lines(String(form.get("requirements") ?? ""));
          if (JSON.stringify(requirements) !== JSON.stringify(task.proofRequirements)) input.proofRequirements = requirements;
        }
        const reward = value("reward");
        if (reward && Number(reward) !== Number(task.reward.usd)) input.rewardUsd = reward;
        const deadline = value("deadline");
        if (deadline && deadline !== initialDeadline) {
          const date = new Date(deadline);
          if (Number.isNaN(date.getTime())) return action.setError(new Error("New deadline: pick a date and time"));
          input.deadline = date.toISOString();
        }
        if (!Object.keys(input).length) return action.setError(new Error("Nothing changed: edit a field first"));
        if (value("reason")) input.reason = value("reason");
        if (await action.run(async () => props.onDone((await gql(ChangeTask, { id: task.id, input })).changeTask))) setOpen(false);
      }}
    >
      <h3>Change the task</h3>
      {textEditable ? (
        <>
          <Field label="New title">
            <input name="title" required maxLength={200} defaultValue={task.title} />
          </Field>
          <Field label="New description">
            <textarea name="description" required maxLength={5000} rows={3} defaultValue={task.description} />
          </Field>
          <Field label="New proof requirements" hint="One per line">
            <textarea name="requirements" rows={2} defaultValue={task.proofRequirements.join("\n")} />
          </Field>
        </>
      ) : (
        <p class="muted small">An operator holds the task: only the reward (up) and the deadline (later) can change now.</p>
      )}
      <div class="row">
        <Field label="Reward (USD)" hint={`Raise only (now ${money(task.reward)}): the raise and its fee move from your balance into escrow`}>
          <input name="reward" inputMode="decimal" defaultValue={task.reward.usd} />
        </Field>
        <Field label="Deadline" hint="Later only, within the posting horizon">
          <input name="deadline" type="datetime-local" defaultValue={initialDeadline} />
        </Field>
      </div>
      <Field label="Why (optional, the operator sees it)">
        <input name="reason" maxLength={1000} />
      </Field>
      <ErrorBox error={action.error} title="The task was not changed" />
      <div class="actions">
        <button type="submit" disabled={action.busy}>
          {action.busy ? "Saving…" : "Save changes"}
        </button>
        <button type="button" class="secondary" onClick={() => (setOpen(false), action.setError(undefined))}>
          Keep it as it is
        </button>
      </div>
    </form>
  );
}

/** Tip the operator of a PAID task (tipTask): from the balance, paid on chain to their payout address. */
export function TipForm(props: { task: TaskDetailFragment; onDone: (task: TaskDetailFragment) => void }) {
  const action = useAction();
  const [amount, setAmount] = useState("");
  const [note, setNote] = useState("");
  return (
    <Section title="Tip the operator" id="tip">
      <form
        class="inline-form"
        onSubmit={async (event) => {
          event.preventDefault();
          if (!/^\d+(\.\d{1,6})?$/.test(amount.trim()) || Number(amount) <= 0) return action.setError(new Error("Tip (USD): a positive amount with at most 6 decimals, e.g. 2 or 1.50"));
          const done = await action.run(async () => props.onDone((await gql(TipTask, { id: props.task.id, amountUsd: amount.trim(), note: note.trim() || null })).tipTask));
          if (done) (setAmount(""), setNote(""));
        }}
      >
        <p class="muted small">A bonus from your balance, paid on chain to {props.task.operator?.name ?? "the operator"}'s payout address.</p>
        <div class="row">
          <Field label="Tip (USD)">
            <input inputMode="decimal" value={amount} onInput={(event) => setAmount(event.currentTarget.value)} />
          </Field>
          <Field label="Note to the operator (optional)">
            <input maxLength={1000} value={note} onInput={(event) => setNote(event.currentTarget.value)} />
          </Field>
        </div>
        <ErrorBox error={action.error} title="No tip was sent" />
        <button type="submit" disabled={action.busy}>
          {action.busy ? "Sending…" : "Send tip"}
        </button>
      </form>
    </Section>
  );
}

/** Whether the agent may still dispute: VERIFIED with the release held (a review window) and the hold not over. */
export function canDispute(task: TaskDetailFragment, now = Date.now()): boolean {
  return task.status === "VERIFIED" && !!task.releaseHeldUntil && Date.parse(task.releaseHeldUntil) > now;
}

/** Dispute verified proof during the review window (disputeTask): the platform decides release or refund. */
export function DisputeForm(props: { task: TaskDetailFragment; onDone: (task: TaskDetailFragment) => void }) {
  const action = useAction();
  const [reason, setReason] = useState("");
  return (
    <section class="card attention" aria-labelledby="dispute-title">
      <h2 id="dispute-title">Check the proof before it is paid</h2>
      <p>
        The Guardian approved the proof; the payout waits until <strong>{dateTime(props.task.releaseHeldUntil)}</strong>. If the proof is wrong, dispute it before then: the money
        stays in escrow and HumanOps staff decide between paying the operator and refunding you.
      </p>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          if (!reason.trim()) return action.setError(new Error("Reason: say what is wrong with the proof (1-1000 characters)"));
          await action.run(async () => props.onDone((await gql(DisputeTask, { id: props.task.id, reason: reason.trim() })).disputeTask));
        }}
      >
        <Field label="What is wrong with the proof">
          <textarea rows={2} maxLength={1000} value={reason} onInput={(event) => setReason(event.currentTarget.value)} />
        </Field>
        <ErrorBox error={action.error} title="The proof was not disputed" />
        <button type="submit" class="danger" disabled={action.busy}>
          Dispute the proof
        </button>
      </form>
    </section>
  );
}
