import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, gql, subscribe } from "./api";
import { TaskDetail, TaskUpdated, type TaskDetailFragment } from "./graphql/operations.generated";
import { Link } from "./router";
import { ErrorBox, Spinner, StatusBadge, useTitle } from "./ui";

/**
 * What both sides' task pages share: loading a task and following it live,
 * and the answers before there is a task to show.
 */

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

/** The page for an address with nothing behind it, or an object the caller may not see. */
export function NotFound(props: { what?: string }) {
  return (
    <section class="card" aria-labelledby="nf-title">
      <h1 id="nf-title">Not found</h1>
      <p>{props.what ?? "There is nothing at this address."}</p>
      <Link href="/">Back to the start</Link>
    </section>
  );
}
