import type { TaskDetailFragment } from "./graphql/operations.generated";
import { dateTime, money, Section, shortHash } from "./ui";

/**
 * What happened to a task after it was posted, on both sides' task pages:
 * the agent's changes (edits, raises, extensions: its TASK_CHANGED events),
 * the tips paid after PAID, and a dispute with the platform's decision. The
 * page follows the task live (taskUpdated), so each shows as it happens.
 */
export function TaskChanges(props: { task: TaskDetailFragment; side: "AGENT" | "OPERATOR" }) {
  const { task, side } = props;
  const changes = task.events.filter((event) => event.kind === "TASK_CHANGED");
  if (!changes.length && !task.tips.length && !task.dispute) return null;
  return (
    <Section title="Changes and tips" id="changes">
      {changes.length ? (
        <>
          <h3>Changes by the agent</h3>
          <ol class="changes">
            {changes.map((event) => (
              <li key={event.id} class="change">
                <time dateTime={event.createdAt}>{dateTime(event.createdAt)}</time> <span class="pre">{changeText(event.reason)}</span>
              </li>
            ))}
          </ol>
        </>
      ) : null}
      {task.tips.length ? (
        <>
          <h3>Tips</h3>
          <ul class="tips">
            {task.tips.map((tip) => (
              <li key={tip.id} class="tip" data-tip-status={tip.status}>
                <strong>{money(tip.amount)}</strong> {side === "AGENT" ? "to the operator" : "from the agent"}
                {tip.note ? <span class="pre">: {tip.note}</span> : null}{" "}
                <span class="muted small">
                  {dateTime(tip.createdAt)} · {tip.status === "PAID" ? `paid on chain (${shortHash(tip.txHash)})` : "on its way on chain"}
                </span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {task.dispute ? <DisputeView dispute={task.dispute} side={side} /> : null}
    </Section>
  );
}

/**
 * A change event's reason as a person reads it: without the "changed by the
 * agent: " every one starts with, and its instants (a deadline's old and new
 * value) in the browser's local date and time.
 */
export function changeText(reason: string | null): string {
  return (reason ?? "").replace(/^changed by the agent: /, "").replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, (iso) => dateTime(iso));
}

function DisputeView(props: { dispute: NonNullable<TaskDetailFragment["dispute"]>; side: "AGENT" | "OPERATOR" }) {
  const { dispute } = props;
  return (
    <div class="dispute" data-dispute-status={dispute.status}>
      <h3>Dispute</h3>
      <p>
        {props.side === "AGENT" ? "You disputed the proof" : "The agent disputed your proof"} {dateTime(dispute.openedAt)}: <span class="pre">{dispute.reason}</span>
      </p>
      {dispute.status === "OPEN" ? (
        <p class="muted">HumanOps staff decide: the money stays in escrow until then.</p>
      ) : (
        <p data-testid="dispute-decision">
          Decided {dateTime(dispute.decidedAt)}: <strong>{dispute.decision === "RELEASE" ? "released to the operator" : "refunded to the agent"}</strong>
          {dispute.decisionNote ? <span class="pre"> ({dispute.decisionNote})</span> : null}
        </p>
      )}
    </div>
  );
}
