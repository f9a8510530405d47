import { useEffect, useState } from "preact/hooks";
import { gql, uploadProof } from "../api";
import { LiveTaskFrame } from "../live-task";
import { Messages } from "../messages";
import { ReleaseTask, TaskDetail, type TaskDetailFragment } from "../graphql/operations.generated";
import { TaskMap } from "../map";
import { Link } from "../router";
import { dateTime, deadlineText, ErrorBox, EscrowView, Field, money, placeText, ProofPhotos, Section, useAction, VerificationView } from "../ui";
import { RatingSection } from "../rating";
import { changeText, TaskChanges } from "../task-changes";

/** At most this many photos per proof (the API's PhotoInput list: 1 to 10). */
const MAX_PHOTOS = 10;

export function OperatorTaskPage(props: { id: string; onPaid: () => void }) {
  return (
    <LiveTaskFrame id={props.id} notFound="This task is not open and not one you hold.">
      {(task, setTask) => <OperatorTask task={task} setTask={setTask} onPaid={props.onPaid} />}
    </LiveTaskFrame>
  );
}

function OperatorTask(props: { task: TaskDetailFragment; setTask: (task: TaskDetailFragment) => void; onPaid: () => void }) {
  const { task, setTask } = props;
  useEffect(() => {
    if (task.status === "PAID") props.onPaid();
  }, [task.status]);
  const canSubmit = (task.status === "ACCEPTED" || task.status === "REJECTED") && task.attempts < task.maxAttempts;
  return (
    <>
      {task.withdrawableWithoutPenalty ? <ChangedNotice task={task} onDone={setTask} /> : null}
      <Outcome task={task} />
      <div class="grid">
        <Section title="What to do" id="todo">
          <p class="pre">{task.description}</p>
          {task.captureCode ? (
            <p class="capture-code">
              Capture code <strong data-capture-code>{task.captureCode}</strong>: write it on paper (or show it on a screen) and keep it legible in one photo. It ties your photos to this task.
            </p>
          ) : null}
          {task.proofRequirements.length ? (
            <>
              <h3>The proof must show</h3>
              <ul class="requirements">
                {task.proofRequirements.map((requirement) => (
                  <li key={requirement}>{requirement}</li>
                ))}
              </ul>
            </>
          ) : null}
          <dl class="facts">
            <dt>Reward</dt>
            <dd>{money(task.reward)}</dd>
            <dt>Deadline</dt>
            <dd>{deadlineText(task.deadline)}</dd>
            <dt>Attempts</dt>
            <dd>
              {task.attempts} of {task.maxAttempts} used
            </dd>
            <dt>Where</dt>
            <dd>
              {placeText(task.location)}{" "}
              <a href={`geo:${task.location.lat},${task.location.lng}`}>Open in maps</a>
            </dd>
          </dl>
          <TaskMap label="Task location" points={[{ lat: task.location.lat, lng: task.location.lng, label: task.title, kind: "task" }]} />
        </Section>
        {canSubmit ? <ProofForm task={task} onSubmitted={async () => setTask((await gql(TaskDetail, { id: task.id })).task)} /> : null}
        {task.proofs.length ? (
          <Section title="Your proof" id="proofs">
            {[...task.proofs].reverse().map((proof) => (
              <div key={proof.id} class="proof">
                <h3>
                  Attempt {proof.attempt} <span class="muted small">{dateTime(proof.createdAt)}</span>
                </h3>
                {proof.notes ? <p class="pre">Notes: {proof.notes}</p> : null}
                <ProofPhotos proof={proof} />
                {/* The latest attempt's verdict is the one shown under Status. */}
                {proof !== task.proofs[task.proofs.length - 1] ? <VerificationView verification={proof.verification} /> : null}
              </div>
            ))}
          </Section>
        ) : null}
        <TaskChanges task={task} side="OPERATOR" />
        {task.status === "ACCEPTED" && !task.withdrawableWithoutPenalty ? <ReleaseForm task={task} onDone={setTask} /> : null}
        {task.operator ? <Messages taskId={task.id} me="OPERATOR" task={task} /> : null}
        <RatingSection task={task} side="OPERATOR" onRated={(ratings) => setTask({ ...task, ratings })} />
      </div>
      <p>
        <Link href="/mine">← My tasks</Link>
      </p>
    </>
  );
}

/** Where the task stands for the operator: waiting, the Guardian's verdict, and the payout. */
function Outcome(props: { task: TaskDetailFragment }) {
  const { task } = props;
  const text: Record<string, string> = {
    ACCEPTED: "The task is yours: go there, take the photos and send them below.",
    SUBMITTED: "Proof received: the Guardian is checking it.",
    VERIFIED: "The Guardian approved your proof: the payout is on its way.",
    MANUAL_REVIEW: "The Guardian asked the agent to look at your proof: you will see the decision here.",
    REJECTED: task.attempts < task.maxAttempts ? "The proof was rejected: read why below and send new photos." : "The proof was rejected and no attempts are left.",
    PAID: "Paid.",
    CANCELLED: "The agent cancelled this task.",
    EXPIRED: "The deadline passed.",
    POSTED: "This task is open.",
    DISPUTED: "The agent disputed your proof: HumanOps staff will decide between paying you and refunding the agent.",
  };
  return (
    <section class={`card outcome-card status-${task.status.toLowerCase()}`} aria-live="polite" aria-labelledby="outcome-title">
      <h2 id="outcome-title">Status</h2>
      <p>{text[task.status]}</p>
      {task.verification ? <VerificationView verification={task.verification} /> : null}
      {task.status === "PAID" && task.escrow ? (
        <div class="payout" data-testid="payout">
          <p>
            <strong>{money(task.reward)}</strong> paid to <code class="wrap">{task.escrow.payee ?? task.operator?.payoutAddress}</code>
          </p>
          <EscrowView escrow={task.escrow} />
        </div>
      ) : null}
    </section>
  );
}

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} bytes` : bytes < 1024 * 1024 ? `${Math.round(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

interface Picked {
  file: File;
  preview: string;
}

/**
 * Photos from the camera (or the gallery), previewed, sent as they are with
 * notes to the REST multipart route, with the upload's progress. Nothing is
 * resized or re-encoded: the Guardian reads the originals' EXIF.
 */
function ProofForm(props: { task: TaskDetailFragment; onSubmitted: () => Promise<void> }) {
  const [picked, setPicked] = useState<Picked[]>([]);
  const [notes, setNotes] = useState("");
  const [progress, setProgress] = useState<number | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [sent, setSent] = useState(false);

  useEffect(() => () => picked.forEach((p) => URL.revokeObjectURL(p.preview)), [picked]);

  const add = (files: FileList | null) => {
    if (!files) return;
    setError(undefined);
    const next = [...picked];
    for (const file of Array.from(files)) {
      if (next.length >= MAX_PHOTOS) {
        setError(new Error(`At most ${MAX_PHOTOS} photos per proof`));
        break;
      }
      next.push({ file, preview: URL.createObjectURL(file) });
    }
    setPicked(next);
  };

  const submit = async () => {
    if (!picked.length) return setError(new Error("Photos: add at least one photo"));
    setError(undefined);
    setProgress(0);
    try {
      await uploadProof(props.task.id, picked.map((p) => p.file), notes, setProgress).done;
      setSent(true);
      setPicked([]);
      setNotes("");
      // The task as it is now (SUBMITTED); the live subscription then brings the verdict.
      await props.onSubmitted();
    } catch (err) {
      setError(err);
    } finally {
      setProgress(undefined);
    }
  };

  return (
    <Section title={props.task.attempts ? "Send new proof" : "Send proof"} id="send-proof">
      <Field label="Photos" hint="Take them at the task's place: the photos' location and time are checked">
        <input type="file" name="photos" accept="image/*" capture="environment" multiple onChange={(event) => (add(event.currentTarget.files), (event.currentTarget.value = ""))} />
      </Field>
      {picked.length ? (
        <ul class="photos previews">
          {picked.map((p, i) => (
            <li key={p.preview}>
              <img src={p.preview} alt={`Photo ${i + 1} to send: ${p.file.name}`} />
              <div class="muted small">
                {p.file.name} · {size(p.file.size)}
              </div>
              <button type="button" class="secondary small" onClick={() => setPicked(picked.filter((other) => other !== p))} aria-label={`Remove photo ${i + 1}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <Field label="Notes (optional)">
        <textarea value={notes} onInput={(event) => setNotes(event.currentTarget.value)} rows={3} maxLength={2000} />
      </Field>
      {progress !== undefined ? (
        <div class="progress">
          <label for="upload-progress">Uploading {Math.round(progress * 100)}%</label>
          <progress id="upload-progress" max={1} value={progress} />
        </div>
      ) : null}
      <ErrorBox error={error} title="The proof was not sent" />
      {sent && !error ? (
        <p class="notice" role="status">
          Proof sent.
        </p>
      ) : null}
      <button type="button" onClick={submit} disabled={progress !== undefined}>
        Send proof
      </button>
    </Section>
  );
}

/**
 * The agent changed the task after this operator accepted it: what changed,
 * and the choice to give it back without it counting against their record
 * (releaseTask, which the server records as a withdrawal after a change).
 */
function ChangedNotice(props: { task: TaskDetailFragment; onDone: (task: TaskDetailFragment) => void }) {
  const { busy, error, run } = useAction();
  const latest = props.task.events.filter((event) => event.kind === "TASK_CHANGED").at(-1);
  return (
    <section class="card attention" role="status" aria-labelledby="changed-title">
      <h2 id="changed-title">The agent changed this task</h2>
      {latest?.reason ? <p class="pre">{changeText(latest.reason)}</p> : null}
      <p>Since it changed after you accepted, you may give it back without penalty: it does not count on your record. Or keep it and carry on as before.</p>
      <ErrorBox error={error} />
      <button
        type="button"
        class="secondary"
        disabled={busy}
        onClick={() => run(async () => props.onDone((await gql(ReleaseTask, { id: props.task.id, reason: "the task changed after I accepted it" })).releaseTask))}
      >
        Withdraw without penalty
      </button>
    </section>
  );
}

function ReleaseForm(props: { task: TaskDetailFragment; onDone: (task: TaskDetailFragment) => void }) {
  const { busy, error, run } = useAction();
  return (
    <Section title="Can't do it?" id="release">
      <p class="muted">Give the task back so someone else can take it. Releases are counted on your record.</p>
      <ErrorBox error={error} />
      <button
        type="button"
        class="secondary"
        disabled={busy}
        onClick={async () => {
          if (!confirm("Give this task back?")) return;
          await run(async () => props.onDone((await gql(ReleaseTask, { id: props.task.id, reason: null })).releaseTask));
        }}
      >
        Give the task back
      </button>
    </Section>
  );
}
