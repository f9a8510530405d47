import { useState } from "preact/hooks";
import type { Session } from "../api";
import { gql } from "../api";
import { AdminAuditLog, DecideDispute, Disputes, type DisputeDecision, type DisputesResult, type DisputeStatus } from "../graphql/operations.generated";
import { NotFound } from "../live-task";
import { Link, usePath } from "../router";
import { DataTable, dateTime, ErrorBox, Field, money, placeText, Section, Spinner, StatusBadge, Timeline, useAction, useLoad, useTitle, VerificationView } from "../ui";

type DisputeNode = DisputesResult["disputes"]["nodes"][number];

/**
 * The platform's screen, for a session signed in with an admin key: the
 * disputed tasks with the agent's reason and the evidence (the proof's
 * photos, the Guardian's checks, the task's events), the decision (release
 * or refund, with a note), and the audit log. Everything goes through the
 * admin API (disputes, decideDispute, adminAuditLog), which the session may
 * use exactly as the admin's key may.
 */
export function AdminApp(_props: { session: Session }) {
  const path = usePath();
  const nav: Array<[string, string]> = [
    ["/", "Disputes"],
    ["/audit-log", "Audit log"],
  ];
  return (
    <div class="admin">
      <nav class="subnav" aria-label="Administration">
        {nav.map(([href, label]) => (
          <Link key={href} href={href} class={path === href ? "active" : undefined} aria-current={path === href ? "page" : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {path === "/" || path === "/disputes" ? <DisputesPage /> : path === "/audit-log" ? <AuditLogPage /> : <NotFound />}
    </div>
  );
}

const PAGE = 20;

function DisputesPage() {
  useTitle("Disputes");
  const [status, setStatus] = useState<DisputeStatus>("OPEN");
  const list = useLoad(() => gql(Disputes, { status, first: PAGE, after: null }), [status]);
  const disputes = list.data?.disputes.nodes ?? [];
  return (
    <section aria-labelledby="disputes-title">
      <div class="page-head">
        <h1 id="disputes-title">Disputes</h1>
        <fieldset class="inline">
          <legend class="visually-hidden">Which disputes</legend>
          {(["OPEN", "DECIDED"] as const).map((value) => (
            <label key={value}>
              <input type="radio" name="dispute-status" checked={status === value} onChange={() => setStatus(value)} />
              {value === "OPEN" ? "Waiting for a decision" : "Decided"}
            </label>
          ))}
        </fieldset>
        <button type="button" class="secondary" onClick={() => void list.reload()}>
          Refresh
        </button>
      </div>
      <ErrorBox error={list.error} title="The disputes could not be loaded" />
      {list.loading && !list.data ? <Spinner label="Loading the disputes…" /> : null}
      {list.data && !disputes.length ? <p class="muted">{status === "OPEN" ? "No dispute is waiting for a decision." : "No dispute has been decided yet."}</p> : null}
      {disputes.map((dispute) => (
        <DisputeCard key={dispute.id} dispute={dispute} onDecided={() => void list.reload()} />
      ))}
      {list.data?.disputes.pageInfo.hasNextPage ? <p class="muted small">Oldest {PAGE} shown: decide these to see the next ones.</p> : null}
    </section>
  );
}

function DisputeCard(props: { dispute: DisputeNode; onDecided: () => void }) {
  const { dispute } = props;
  const { task } = dispute;
  const [note, setNote] = useState("");
  const { busy, error, setError, run } = useAction();
  const decide = async (decision: DisputeDecision) => {
    if (!note.trim()) return setError(new Error("Note: say why (1-960 characters); the agent and the operator see it"));
    await run(async () => {
      await gql(DecideDispute, { taskId: task.id, decision, note: note.trim() });
      props.onDecided();
    });
  };
  const latest = task.proofs[task.proofs.length - 1];
  return (
    <article class="card dispute-card" data-task-id={task.id} data-dispute-status={dispute.status} aria-labelledby={`dispute-${dispute.id}`}>
      <div class="page-head">
        <h2 id={`dispute-${dispute.id}`}>{task.title}</h2>
        <StatusBadge status={task.status} />
      </div>
      <p>
        <strong>The agent's reason:</strong> <span class="pre">{dispute.reason}</span>
      </p>
      <dl class="facts">
        <dt>Disputed</dt>
        <dd>{dateTime(dispute.openedAt)}</dd>
        <dt>Reward</dt>
        <dd>{money(task.reward)}</dd>
        <dt>Where</dt>
        <dd>{placeText(task.location)}</dd>
        <dt>Task</dt>
        <dd>
          <code class="wrap">{task.id}</code>
        </dd>
      </dl>
      <details>
        <summary>What the operator was asked</summary>
        <p class="pre">{task.description}</p>
        {task.proofRequirements.length ? (
          <ul>
            {task.proofRequirements.map((requirement) => (
              <li key={requirement}>{requirement}</li>
            ))}
          </ul>
        ) : null}
      </details>
      <h3>Evidence</h3>
      {latest ? (
        <div class="proof">
          <p class="muted small">
            Proof attempt {latest.attempt}, {dateTime(latest.createdAt)}
            {latest.notes ? <span class="pre"> · Notes: {latest.notes}</span> : null}
          </p>
          <ul class="photos">
            {latest.photos.map((photo) => (
              <li key={photo.id}>
                {photo.display ? (
                  <a href={photo.display} target="_blank" rel="noreferrer">
                    <img src={photo.thumbnail ?? photo.display} alt={`Disputed proof photo ${photo.position + 1}`} width={160} loading="lazy" />
                  </a>
                ) : (
                  <span class="muted">Photo {photo.position + 1} does not decode</span>
                )}
                <div class="muted small">
                  {photo.width && photo.height ? `${photo.width}x${photo.height}` : ""}
                  {photo.distanceFromTaskM != null ? ` · ${Math.round(photo.distanceFromTaskM)} m from the task` : ""}
                  {photo.takenAt ? ` · taken ${dateTime(photo.takenAt)}` : ""}
                </div>
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <p class="muted">No proof on record.</p>
      )}
      <VerificationView verification={task.verification} />
      <details>
        <summary>The task's events</summary>
        <Timeline events={task.events} />
      </details>
      {dispute.status === "OPEN" ? (
        <form class="inline-form" onSubmit={(event) => event.preventDefault()}>
          <Field label="Decision note" hint="Why, in a sentence or two: the agent and the operator see it, and it goes in the audit log">
            <textarea rows={2} maxLength={960} value={note} onInput={(event) => setNote(event.currentTarget.value)} />
          </Field>
          <ErrorBox error={error} title="Not decided" />
          <div class="actions">
            <button type="button" disabled={busy} onClick={() => decide("RELEASE")}>
              Release to the operator
            </button>
            <button type="button" class="danger" disabled={busy} onClick={() => decide("REFUND")}>
              Refund the agent
            </button>
          </div>
        </form>
      ) : (
        <p data-testid="decision">
          Decided {dateTime(dispute.decidedAt)} by {dispute.decidedBy ?? "the chain (reclaimed)"}: <strong>{dispute.decision === "RELEASE" ? "released to the operator" : "refunded to the agent"}</strong>
          {dispute.decisionNote ? <span class="pre"> ({dispute.decisionNote})</span> : null}
        </p>
      )}
    </article>
  );
}

function AuditLogPage() {
  useTitle("Audit log");
  const [before, setBefore] = useState<string[]>([]);
  const cursor = before[before.length - 1] ?? null;
  const log = useLoad(() => gql(AdminAuditLog, { first: 50, before: cursor }), [cursor]);
  const entries = log.data?.adminAuditLog.nodes ?? [];
  return (
    <Section title="Audit log" id="audit" actions={<button type="button" class="secondary" onClick={() => void log.reload()}>Refresh</button>}>
      <p class="muted small">Every administrative act, newest first: disputes decided, admins created and revoked.</p>
      <ErrorBox error={log.error} title="The audit log could not be loaded" />
      {log.loading && !log.data ? <Spinner label="Loading the audit log…" /> : null}
      {entries.length ? (
        <DataTable caption="Audit log" columns={["When", "Action", "Admin", "Task", "Detail"]} class="audit-log">
          {entries.map((entry) => (
            <tr key={entry.id} data-action={entry.action}>
              <td>{dateTime(entry.createdAt)}</td>
              <td>{entry.action}</td>
              <td>{entry.adminName ?? "command line"}</td>
              <td>{entry.taskId ? <code class="wrap">{entry.taskId}</code> : "—"}</td>
              <td class="pre">{entry.detail}</td>
            </tr>
          ))}
        </DataTable>
      ) : log.data ? (
        <p class="muted">Nothing recorded yet.</p>
      ) : null}
      <div class="actions">
        {before.length ? (
          <button type="button" class="secondary" onClick={() => setBefore(before.slice(0, -1))}>
            Newer
          </button>
        ) : null}
        {log.data?.adminAuditLog.pageInfo.hasNextPage ? (
          <button type="button" class="secondary" onClick={() => setBefore([...before, log.data!.adminAuditLog.pageInfo.endCursor!])}>
            Older
          </button>
        ) : null}
      </div>
    </Section>
  );
}
