import { useState } from "preact/hooks";
import { gql } from "../api";
import { CancelTask, ReviewTask, type TaskDetailFragment } from "../graphql/operations.generated";
import { TaskMap } from "../map";
import { Link } from "../router";
import { dateTime, deadlineText, ErrorBox, EscrowView, Field, money, placeText, ProofPhotos, Section, Timeline, useAction, VerificationView } from "../ui";
import { LiveTaskFrame } from "../live-task";
import { Messages } from "../messages";
import { RatingSection } from "../rating";
import { TaskChanges } from "../task-changes";
import { canDispute, ChangeForm, DisputeForm, TipForm } from "./task-actions";

type OperatorRecord = NonNullable<NonNullable<TaskDetailFragment["operator"]>["record"]>;

const percent = (rate: number | null) => (rate == null ? "–" : `${Math.round(rate * 100)}%`);

/** The accepting operator's record in one line (docs/reputation.md says how each figure is derived). */
function operatorRecordText(record: OperatorRecord): string {
  return [
    `${record.completedTasks} completed`,
    record.averageRating != null ? `rated ${record.averageRating} (${record.ratingCount})` : "not rated yet",
    `approved first time ${percent(record.firstAttemptApprovalRate)}`,
    `on time ${percent(record.onTimeRate)}`,
    `${record.cancellationsAfterAccepting} given back`,
    `${record.reservationsLapsed} lapsed`,
    `${record.fraudCheckFailures} fraud-check failures`,
  ].join(" · ");
}

export function AgentTaskPage(props: { id: string; onMoneyChanged: () => void }) {
  return (
    <LiveTaskFrame id={props.id} notFound="No task of yours has this id.">
      {(task, setTask) => {
        const latestProof = task.proofs[task.proofs.length - 1];
        return (
          <>
            {task.status === "MANUAL_REVIEW" ? <ReviewForm task={task} onDone={(next) => (setTask(next), props.onMoneyChanged())} /> : null}
            {canDispute(task) ? <DisputeForm task={task} onDone={setTask} /> : null}
            <div class="grid">
              <Section title="Terms" id="terms">
                <p class="pre">{task.description}</p>
                <dl class="facts">
                  <dt>Type</dt>
                  <dd>{task.taskType}</dd>
                  <dt>Reward</dt>
                  <dd>{money(task.reward)}</dd>
                  <dt>Fee</dt>
                  <dd>{money(task.fee)}</dd>
                  <dt>Total in escrow</dt>
                  <dd>{money(task.total)}</dd>
                  <dt>Deadline</dt>
                  <dd>{deadlineText(task.deadline)}</dd>
                  {task.reviewWindowMinutes ? (
                    <>
                      <dt>Review window</dt>
                      <dd>{task.reviewWindowMinutes} min after the proof is verified</dd>
                    </>
                  ) : null}
                  <dt>Attempts</dt>
                  <dd>
                    {task.attempts} of {task.maxAttempts}
                  </dd>
                  <dt>Where</dt>
                  <dd>{placeText(task.location)}</dd>
                  {task.testScenario ? (
                    <>
                      <dt>Test scenario</dt>
                      <dd>{task.testScenario}</dd>
                    </>
                  ) : null}
                  {task.operator ? (
                    <>
                      <dt>Operator</dt>
                      <dd>{task.operator.name}</dd>
                      {task.operator.record ? (
                        <>
                          <dt>Operator's record</dt>
                          <dd class="operator-record">{operatorRecordText(task.operator.record)}</dd>
                        </>
                      ) : null}
                    </>
                  ) : null}
                  {task.captureCode ? (
                    <>
                      <dt>Capture code</dt>
                      <dd>{task.captureCode} (the operator shows it in one photo)</dd>
                    </>
                  ) : null}
                </dl>
                {task.proofRequirements.length ? (
                  <>
                    <h3>Proof requirements</h3>
                    <ul>
                      {task.proofRequirements.map((requirement) => (
                        <li key={requirement}>{requirement}</li>
                      ))}
                    </ul>
                  </>
                ) : null}
                <TaskMap label="Task location" points={[{ lat: task.location.lat, lng: task.location.lng, label: task.title, kind: "task" }]} />
                {["POSTED", "ACCEPTED"].includes(task.status) ? <ChangeForm task={task} onDone={(next) => (setTask(next), props.onMoneyChanged())} /> : null}
                {["POSTED", "ACCEPTED", "REJECTED"].includes(task.status) ? <CancelForm task={task} onDone={(next) => (setTask(next), props.onMoneyChanged())} /> : null}
              </Section>
              <TaskChanges task={task} side="AGENT" />
              {task.status === "PAID" && task.operator ? <TipForm task={task} onDone={(next) => (setTask(next), props.onMoneyChanged())} /> : null}
              <Section title="Escrow" id="escrow">
                <EscrowView escrow={task.escrow} />
              </Section>
              <Section title="Proof" id="proof">
                {task.proofs.length === 0 ? <p class="muted">No proof submitted yet.</p> : null}
                {[...task.proofs].reverse().map((proof) => (
                  <div key={proof.id} class="proof">
                    <h3>
                      Attempt {proof.attempt} <span class="muted small">{dateTime(proof.createdAt)}</span>
                    </h3>
                    {proof.notes ? <p class="pre">Notes: {proof.notes}</p> : null}
                    <ProofPhotos proof={proof} />
                    {proof !== latestProof ? <VerificationView verification={proof.verification} /> : null}
                  </div>
                ))}
              </Section>
              <Section title="Guardian" id="guardian">
                <VerificationView verification={task.verification} />
              </Section>
              <Section title="Timeline" id="timeline">
                <Timeline events={task.events} />
              </Section>
              <Messages taskId={task.id} me="AGENT" task={task} />
              <RatingSection task={task} side="AGENT" onRated={(ratings) => setTask({ ...task, ratings })} />
            </div>
            <p>
              <Link href="/">← All tasks</Link>
            </p>
          </>
        );
      }}
    </LiveTaskFrame>
  );
}

function ReviewForm(props: { task: TaskDetailFragment; onDone: (task: TaskDetailFragment) => void }) {
  const { busy, error, setError, run } = useAction();
  const [reason, setReason] = useState("");
  const decide = async (decision: "APPROVE" | "REJECT") => {
    if (decision === "REJECT" && !reason.trim()) {
      setError(new Error("Give a reason when rejecting: the operator sees it and can resubmit"));
      return;
    }
    await run(async () => props.onDone((await gql(ReviewTask, { id: props.task.id, decision, reason: reason.trim() || null })).reviewTask));
  };
  return (
    <section class="card attention" aria-labelledby="review-title">
      <h2 id="review-title">Your decision is needed</h2>
      <p>The Guardian was not sure about this proof. Look at the photos and the checks below, then approve (the operator is paid) or reject (they may resubmit).</p>
      <Field label="Reason" hint="Required to reject; optional to approve">
        <textarea value={reason} onInput={(event) => setReason(event.currentTarget.value)} rows={2} maxLength={1000} />
      </Field>
      <ErrorBox error={error} />
      <div class="actions">
        <button type="button" disabled={busy} onClick={() => decide("APPROVE")}>
          Approve and pay
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => decide("REJECT")}>
          Reject
        </button>
      </div>
    </section>
  );
}

function CancelForm(props: { task: TaskDetailFragment; onDone: (task: TaskDetailFragment) => void }) {
  const [open, setOpen] = useState(false);
  const { busy, error, run } = useAction();
  if (!open)
    return (
      <button type="button" class="secondary" onClick={() => setOpen(true)}>
        Cancel task…
      </button>
    );
  return (
    <form
      class="inline-form"
      onSubmit={async (event) => {
        event.preventDefault();
        const reason = String(new FormData(event.currentTarget).get("reason") ?? "").trim();
        await run(async () => {
          props.onDone((await gql(CancelTask, { id: props.task.id, reason: reason || null })).cancelTask);
          setOpen(false);
        });
      }}
    >
      <Field label="Why cancel? (optional)">
        <input name="reason" maxLength={500} />
      </Field>
      <p class="muted small">Everything in escrow ({money(props.task.total)}) goes back to your balance.</p>
      <ErrorBox error={error} />
      <div class="actions">
        <button type="submit" class="danger" disabled={busy}>
          Cancel the task
        </button>
        <button type="button" class="secondary" onClick={() => setOpen(false)}>
          Keep it
        </button>
      </div>
    </form>
  );
}
