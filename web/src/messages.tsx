import { useEffect, useRef, useState } from "preact/hooks";
import { gql, sendMessagePhotos, subscribe } from "./api";
import { SendTaskMessage, TaskMessageAdded, TaskThread, type ThreadMessageFragment } from "./graphql/operations.generated";
import { dateTime, ErrorBox, Section, useAction } from "./ui";

/** The most characters of one message (the API's MESSAGE_LIMITS.textChars). */
const MAX_CHARS = 4000;
/** The most photos of one message (the API's MESSAGE_LIMITS.photos). */
const MAX_PHOTOS = 4;

/**
 * A task's thread between its agent and the operator holding it, on either
 * side's task page: the messages so far, new ones live (taskMessageAdded),
 * and a box to write while the thread is open. `me` is the author the
 * viewer writes as, so their own messages read as "You". Whether the
 * thread takes messages is read again when the task's holder or status
 * changes (an operator accepts, the task ends).
 */
export function Messages(props: { taskId: string; me: "AGENT" | "OPERATOR"; task: { status: string; operator?: { id: string } | null } }) {
  const [messages, setMessages] = useState<ThreadMessageFragment[]>([]);
  const [canSend, setCanSend] = useState(false);
  const [closesAt, setClosesAt] = useState<string | null>(null);
  const [text, setText] = useState("");
  const { busy: sending, error, setError, run } = useAction();
  const [photos, setPhotos] = useState<Array<{ file: File; preview: string }>>([]);
  const lastEventId = useRef<string | undefined>(undefined);

  const add = (message: ThreadMessageFragment) =>
    setMessages((shown) => (shown.some((m) => m.id === message.id) ? shown : [...shown, message].sort((a, b) => Number(a.eventId) - Number(b.eventId))));

  useEffect(() => {
    let active = true;
    let stop: (() => void) | undefined;
    setMessages([]);
    gql(TaskThread, { taskId: props.taskId })
      .then(({ taskMessages }) => {
        if (!active) return;
        setMessages(taskMessages.messages);
        setCanSend(taskMessages.canSend);
        setClosesAt(taskMessages.closesAt ?? null);
        lastEventId.current = taskMessages.messages.at(-1)?.eventId;
        stop = subscribe(
          TaskMessageAdded,
          () => ({ taskId: props.taskId, afterEventId: lastEventId.current }),
          ({ taskMessageAdded }) => {
            lastEventId.current = taskMessageAdded.eventId;
            if (taskMessageAdded.message) add(taskMessageAdded.message);
          },
          setError,
        );
      })
      .catch((err) => active && setError(err));
    return () => {
      active = false;
      stop?.();
    };
  }, [props.taskId]);

  const holder = props.task.operator?.id;
  useEffect(() => {
    let active = true;
    gql(TaskThread, { taskId: props.taskId })
      .then(({ taskMessages }) => {
        if (!active) return;
        setCanSend(taskMessages.canSend);
        setClosesAt(taskMessages.closesAt ?? null);
        taskMessages.messages.forEach(add);
      })
      .catch((err) => active && setError(err));
    return () => {
      active = false;
    };
  }, [props.taskId, holder, props.task.status]);

  useEffect(() => () => photos.forEach((photo) => URL.revokeObjectURL(photo.preview)), [photos]);

  const attach = (files: FileList | null) => {
    if (!files) return;
    setError(undefined);
    const next = [...photos];
    for (const file of Array.from(files)) {
      if (next.length >= MAX_PHOTOS) {
        setError(new Error(`Photos: at most ${MAX_PHOTOS} per message`));
        break;
      }
      next.push({ file, preview: URL.createObjectURL(file) });
    }
    setPhotos(next);
  };

  async function send(event: Event) {
    event.preventDefault();
    await run(async () => {
      if (photos.length) {
        await sendMessagePhotos(props.taskId, text, photos.map((photo) => photo.file));
        // The message as the server stored it (its photos' signed URLs); the live subscription brings it too.
        (await gql(TaskThread, { taskId: props.taskId })).taskMessages.messages.forEach(add);
        setPhotos([]);
      } else add((await gql(SendTaskMessage, { taskId: props.taskId, text })).sendMessage);
      setText("");
    });
  }

  return (
    <Section title="Messages" id="messages">
      {messages.length ? (
        <ol class="messages" aria-live="polite">
          {messages.map((message) => (
            <li key={message.id} class={`message from-${message.author.toLowerCase()}`} data-author={message.author}>
              <span class="muted small">
                {message.author === props.me ? "You" : message.author === "AGENT" ? "The agent" : "The operator"} · {dateTime(message.createdAt)}
              </span>
              {message.text ? <p class="pre">{message.text}</p> : null}
              {message.photos.map((photo) =>
                photo.display ? (
                  <a key={photo.position} href={photo.display} target="_blank" rel="noreferrer">
                    <img src={photo.thumbnail ?? photo.display} alt={`Message photo ${photo.position + 1}`} width={160} loading="lazy" />
                  </a>
                ) : null,
              )}
            </li>
          ))}
        </ol>
      ) : (
        <p class="muted">No messages yet.</p>
      )}
      <ErrorBox error={error} title="Messages" />
      {canSend ? (
        <form onSubmit={send}>
          <textarea aria-label="Write a message" maxLength={MAX_CHARS} rows={3} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
          <label class="attach">
            <span class="label">Attach photos</span>
            <input type="file" accept="image/jpeg,image/png,image/webp" multiple onChange={(event) => (attach(event.currentTarget.files), (event.currentTarget.value = ""))} />
          </label>
          {photos.length ? (
            <ul class="photos previews">
              {photos.map((photo, i) => (
                <li key={photo.preview}>
                  <img src={photo.preview} alt={`Photo ${i + 1} to attach: ${photo.file.name}`} width={96} />
                  <button type="button" class="secondary small" onClick={() => setPhotos(photos.filter((other) => other !== photo))} aria-label={`Remove attached photo ${i + 1}`}>
                    Remove
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
          <button type="submit" disabled={sending || (!text.trim() && !photos.length)}>
            {sending ? "Sending…" : "Send message"}
          </button>
          {closesAt ? <p class="muted small">The thread closes {dateTime(closesAt)}.</p> : null}
        </form>
      ) : (
        <p class="muted small">{closesAt ? `The thread closed ${dateTime(closesAt)}.` : "Messages open while an operator holds the task."}</p>
      )}
    </Section>
  );
}
