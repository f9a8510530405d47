import { useState } from "preact/hooks";
import { gql } from "./api";
import { RateTask, type TaskDetailFragment } from "./graphql/operations.generated";
import { dateTime, ErrorBox, Field, Section, useAction } from "./ui";

type Side = "AGENT" | "OPERATOR";
const ENDED = ["PAID", "CANCELLED", "EXPIRED"];

/**
 * Ratings both ways once a task has ended with an operator: the other
 * side's rating of you, and yours, which you may give and then change for
 * 24 hours (docs/reputation.md).
 */
export function RatingSection(props: { task: TaskDetailFragment; side: Side; onRated: (ratings: TaskDetailFragment["ratings"]) => void }) {
  const { task, side } = props;
  const mine = task.ratings.find((rating) => rating.ratedBy === side);
  const theirs = task.ratings.find((rating) => rating.ratedBy !== side);
  const [score, setScore] = useState(String(mine?.score ?? 5));
  const [comment, setComment] = useState(mine?.comment ?? "");
  const { busy, error, run } = useAction();
  if (!ENDED.includes(task.status) || !task.operator) return null;
  const other = side === "AGENT" ? "the operator" : "the agent";
  const editable = !mine || Date.parse(mine.editableUntil) > Date.now();
  const rate = async (event: Event) => {
    event.preventDefault();
    await run(async () => {
      const { rateTask } = await gql(RateTask, { taskId: task.id, score: Number(score), comment: comment.trim() || null });
      props.onRated([...task.ratings.filter((rating) => rating.ratedBy !== side), rateTask]);
    });
  };
  return (
    <Section title="Ratings" id="ratings">
      {theirs ? (
        <p>
          {side === "AGENT" ? "The operator" : "The agent"} rated you <strong>{theirs.score} of 5</strong>
          {theirs.comment ? <span class="pre">: {theirs.comment}</span> : null}
        </p>
      ) : null}
      {mine ? (
        <p class="muted small">
          You rated {other} {mine.score} of 5{editable ? `; you can change it until ${dateTime(mine.editableUntil)}` : ""}.
        </p>
      ) : null}
      {editable ? (
        <form onSubmit={rate}>
          <Field label={`Rate ${other} (1-5)`}>
            <select value={score} onChange={(event) => setScore(event.currentTarget.value)}>
              {[5, 4, 3, 2, 1].map((n) => (
                <option key={n} value={String(n)}>
                  {n}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Comment (optional)">
            <textarea maxLength={1000} value={comment} onInput={(event) => setComment(event.currentTarget.value)} />
          </Field>
          <button type="submit" disabled={busy}>
            {busy ? "Saving…" : mine ? "Change rating" : "Rate"}
          </button>
        </form>
      ) : null}
      <ErrorBox error={error} />
    </Section>
  );
}
