import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, gql, subscribe } from "../api";
import { CancelTask, ReviewTask, TaskDetail, TaskUpdated, type TaskDetailFragment } from "../graphql/operations.generated";
import { TaskMap } from "../map";
import { Link } from "../router";
import { dateTime, ErrorBox, EscrowView, Field, money, ProofPhotos, relative, Section, Spinner, StatusBadge, Timeline, useTitle, VerificationView } from "../ui";
import { NotFound } from "./agent-app";

/** Loads one task and follows it over graphql-ws (taskUpdated) while the page is open. */
export function useLiveTask(id: string): { task: TaskDetailFragment | undefined; error: unknown; setTask: (task: TaskDetailFragment) => void; liveError: unknown } {
  const [task, setTask] = useState<TaskDetailFragment | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [liveError, setLiveError] = useState<unknown>(undefined);
  const lastEventId = useRef<string | undefined>(undefined);
  useEffect(() => {
    setTask(undefined);
    setError(undefined);
    lastEventId.current = undefined;
    let active = true;
    let stop: (() => void) | undefined;
    gql(TaskDetail, { id })
      .then(({ task: found }) => {
        if (!active) return;
        setTask(found);
        // Only updates after the newest event already shown.
        lastEventId.current = found.events.length ? found.events[found.events.length - 1].id : undefined;
        stop = subscribe(
          TaskUpdated,
          () => ({ taskId: id, afterEventId: lastEventId.current }),
          ({ taskUpdated }) => {
            lastEventId.current = taskUpdated.eventId;
            setLiveError(undefined);
            if (taskUpdated.task) setTask(taskUpdated.task);
          },
          setLiveError,
        );
      })
      .catch((err) => active && setError(err));
    return () => {
      active = false;
      stop?.();
    };
  }, [id]);
  return { task, error, setTask, liveError };
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && (error.code === "NOT_FOUND" || error.code === "FORBIDDEN" || error.status === 404);
}

/**
 * A task page on either side: loads the task and follows it live; answers "not found", a failure or
 * loading; then the title, the status and live-update trouble above `children`.
 */
export function LiveTaskFrame(props: {
  id: string;
  notFound: string;
  children: (task: TaskDetailFragment, setTask: (task: TaskDetailFragment) => void) => ComponentChildren;
}) {
  const { task, error, setTask, liveError } = useLiveTask(props.id);
  useTitle(isNotFound(error) ? "Not found" : task?.title);
  if (isNotFound(error)) return <NotFound what={props.notFound} />;
  if (error) return <ErrorBox error={error} title="The task could not be loaded" />;
  if (!task) return <Spinner label="Loading the task…" />;
  return (
    <div class="task-page" data-task-id={task.id} data-status={task.status}>
      <div class="page-head">
        <h1>{task.title}</h1>
        <StatusBadge status={task.status} />
      </div>
      <ErrorBox error={liveError} title="Live updates" />
      {props.children(task, setTask)}
    </div>
  );
}

export function AgentTaskPage(props: { id: string; onMoneyChanged: () => void }) {
  return (
    <LiveTaskFrame id={props.id} notFound="No task of yours has this id.">
      {(task, setTask) => {
        const latestProof = task.proofs[task.proofs.length - 1];
        return (
          <>
            {task.status === "MANUAL_REVIEW" ? <ReviewForm task={task} onDone={(next) => (setTask(next), props.onMoneyChanged())} /> : null}
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
                  <dd>
                    {dateTime(task.deadline)} ({relative(task.deadline)})
                  </dd>
                  <dt>Attempts</dt>
                  <dd>
                    {task.attempts} of {task.maxAttempts}
                  </dd>
                  <dt>Where</dt>
                  <dd>
                    {task.location.address ?? ""} ({task.location.lat.toFixed(5)}, {task.location.lng.toFixed(5)})
                  </dd>
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
                {["POSTED", "ACCEPTED", "REJECTED"].includes(task.status) ? <CancelForm task={task} onDone={(next) => (setTask(next), props.onMoneyChanged())} /> : null}
              </Section>
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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [reason, setReason] = useState("");
  const decide = async (decision: "APPROVE" | "REJECT") => {
    if (decision === "REJECT" && !reason.trim()) {
      setError(new Error("Give a reason when rejecting: the operator sees it and can resubmit"));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const { reviewTask } = await gql(ReviewTask, { id: props.task.id, decision, reason: reason.trim() || null });
      props.onDone(reviewTask);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
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
        setBusy(true);
        setError(undefined);
        try {
          const { cancelTask } = await gql(CancelTask, { id: props.task.id, reason: reason || null });
          props.onDone(cancelTask);
          setOpen(false);
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
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
