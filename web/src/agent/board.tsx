import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { gql, subscribe } from "../api";
import { AgentTasks, AgentTasksUpdated, type AgentTasksResult, type TaskStatus } from "../graphql/operations.generated";
import { Link } from "../router";
import { ErrorBox, LoadMore, money, nextCursor, relative, Spinner, StatusBadge, useTitle } from "../ui";

type BoardTask = AgentTasksResult["tasks"]["nodes"][number];

const COLUMNS: Array<{ title: string; statuses: TaskStatus[] }> = [
  { title: "Open", statuses: ["POSTED", "ACCEPTED"] },
  { title: "Proof in", statuses: ["SUBMITTED", "MANUAL_REVIEW", "VERIFIED", "DISPUTED"] },
  { title: "Paid", statuses: ["PAID"] },
  { title: "Closed", statuses: ["REJECTED", "CANCELLED", "EXPIRED"] },
];

/**
 * The agent's tasks by status, kept current over graphql-ws (tasksUpdated):
 * each update carries the task as it is now, so the board never polls. The
 * subscription starts before the first page loads, and the newer copy of a
 * task (by updatedAt) wins, so nothing that happens in between is lost.
 */
export function Board() {
  const [tasks, setTasks] = useState<Map<string, BoardTask>>(new Map());
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [liveError, setLiveError] = useState<unknown>(undefined);
  const [total, setTotal] = useState(0);
  const [next, setNext] = useState<string | null>(null);
  const lastEventId = useRef<string | undefined>(undefined);
  useTitle("Tasks");

  const merge = (incoming: BoardTask[]) =>
    setTasks((current) => {
      const next = new Map(current);
      for (const task of incoming) {
        const have = next.get(task.id);
        if (!have || new Date(task.updatedAt) >= new Date(have.updatedAt)) next.set(task.id, task);
      }
      return next;
    });

  useEffect(() => {
    const stop = subscribe(
      AgentTasksUpdated,
      () => ({ afterEventId: lastEventId.current }),
      ({ tasksUpdated }) => {
        lastEventId.current = tasksUpdated.eventId;
        setLiveError(undefined);
        if (tasksUpdated.task) merge([tasksUpdated.task]);
      },
      setLiveError,
    );
    gql(AgentTasks, { first: 100 })
      .then(({ tasks: page }) => {
        merge(page.nodes);
        setTotal(page.totalCount);
        setNext(nextCursor(page));
        setLoaded(true);
      })
      .catch(setError);
    return stop;
  }, []);

  const sorted = useMemo(() => [...tasks.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)), [tasks]);

  if (error) return <ErrorBox error={error} title="The tasks could not be loaded" />;
  if (!loaded) return <Spinner label="Loading your tasks…" />;
  return (
    <div>
      <div class="page-head">
        <h1>Tasks</h1>
        <span class="muted" aria-live="polite">
          {Math.max(total, tasks.size)} task{Math.max(total, tasks.size) === 1 ? "" : "s"} · live
        </span>
        <Link href="/tasks/new" class="button">
          Post a task
        </Link>
      </div>
      <ErrorBox error={liveError} title="Live updates" />
      {sorted.length === 0 ? (
        <p class="card">
          No tasks yet. <Link href="/tasks/new">Post your first task</Link>.
        </p>
      ) : (
        <div class="board">
          {COLUMNS.map((column) => {
            const inColumn = sorted.filter((task) => column.statuses.includes(task.status));
            return (
              <section key={column.title} class="column" aria-label={`${column.title} (${inColumn.length})`}>
                <h2>
                  {column.title} <span class="muted">{inColumn.length}</span>
                </h2>
                <ul>
                  {inColumn.map((task) => (
                    <li key={task.id} class="task-card" data-task-id={task.id} data-status={task.status}>
                      <Link href={`/tasks/${task.id}`} class="task-link">
                        {task.title}
                      </Link>
                      <div>
                        <StatusBadge status={task.status} /> {task.verification ? <span class={`badge verdict-${task.verification.verdict.toLowerCase()}`}>Guardian: {task.verification.verdict} ({task.verification.score})</span> : null}
                      </div>
                      <div class="muted small">
                        {money(task.reward)} reward · due {relative(task.deadline)}
                        {task.testScenario ? ` · test: ${task.testScenario}` : ""}
                      </div>
                    </li>
                  ))}
                </ul>
              </section>
            );
          })}
        </div>
      )}
      <LoadMore
        cursor={next}
        label="Load older tasks"
        load={async (after) => (await gql(AgentTasks, { first: 100, after })).tasks}
        onPage={(nodes, following) => {
          merge(nodes);
          setNext(following);
        }}
      />
    </div>
  );
}
