import { cloneElement, type ComponentChildren, type VNode } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import type { MoneyFieldsFragment, TaskDetailFragment, TaskStatus, VerificationFieldsFragment } from "./graphql/operations.generated";

export function money(value: MoneyFieldsFragment | null | undefined): string {
  return value ? `$${value.usd}` : "—";
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** "in 3 h", "5 min ago": how far a moment is from now, for deadlines. */
export function relative(iso: string): string {
  const ms = new Date(iso).getTime() - Date.now();
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const text = minutes < 60 ? `${minutes} min` : minutes < 48 * 60 ? `${Math.round(minutes / 60)} h` : `${Math.round(minutes / 1440)} days`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/** A date as a datetime-local input holds it: the browser's local time, to the minute. */
export function localDateTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A deadline as the task pages state it: the date and time, and how far off it is. */
export function deadlineText(iso: string): string {
  return `${dateTime(iso)} (${relative(iso)})`;
}

/** A task's place: its address (if any) and its coordinates to 5 decimals (about a metre). */
export function placeText(location: { lat: number; lng: number; address?: string | null }): string {
  return `${location.address ?? ""} (${location.lat.toFixed(5)}, ${location.lng.toFixed(5)})`;
}

export function shortHash(hash: string | null | undefined): string {
  return hash ? `${hash.slice(0, 10)}…${hash.slice(-6)}` : "—";
}

const STATUS_LABELS: Record<TaskStatus, string> = {
  POSTED: "Posted",
  ACCEPTED: "Accepted",
  SUBMITTED: "Submitted",
  VERIFIED: "Verified",
  PAID: "Paid",
  MANUAL_REVIEW: "Manual review",
  REJECTED: "Rejected",
  CANCELLED: "Cancelled",
  EXPIRED: "Expired",
  DISPUTED: "Disputed",
};

export function StatusBadge(props: { status: TaskStatus }) {
  return (
    <span class={`badge status-${props.status.toLowerCase()}`} data-status={props.status}>
      {STATUS_LABELS[props.status]}
    </span>
  );
}

export function ErrorBox(props: { error: unknown; title?: string }) {
  if (!props.error) return null;
  const err = props.error;
  const message = err instanceof ApiError ? err.message : err instanceof Error ? err.message : String(err);
  return (
    <div class="error" role="alert">
      {props.title ? <strong>{props.title}: </strong> : null}
      {message}
      {err instanceof ApiError && err.field ? <span class="muted"> (field: {err.field})</span> : null}
    </div>
  );
}

export function Spinner(props: { label?: string }) {
  return (
    <p class="muted" role="status">
      {props.label ?? "Loading…"}
    </p>
  );
}

/** Loads data and reloads it on demand; keeps the last good value while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; loading: boolean; reload: () => Promise<void>; set: (value: T) => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const current = useRef(0);
  const reload = useCallback(async () => {
    const run = ++current.current;
    setLoading(true);
    try {
      const value = await load();
      if (run === current.current) {
        setData(value);
        setError(undefined);
      }
    } catch (err) {
      if (run === current.current) setError(err);
    } finally {
      if (run === current.current) setLoading(false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload, set: setData };
}

/** A labelled form control; its hint is tied to the control with aria-describedby (read after the label, not as part of it). */
export function Field(props: { label: string; hint?: string; children: VNode<any> }) {
  const hintId = useId();
  return (
    <div class="field">
      <label>
        <span class="label">{props.label}</span>
        {props.hint ? cloneElement(props.children, { "aria-describedby": hintId }) : props.children}
      </label>
      {props.hint ? (
        <span class="hint" id={hintId}>
          {props.hint}
        </span>
      ) : null}
    </div>
  );
}

export function Section(props: { title: string; children: ComponentChildren; id?: string; actions?: ComponentChildren }) {
  return (
    <section class="card" aria-labelledby={props.id ? `${props.id}-title` : undefined}>
      <div class="card-head">
        <h2 id={props.id ? `${props.id}-title` : undefined}>{props.title}</h2>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

const OUTCOME_LABEL = { PASS: "Pass", WARN: "Warning", FAIL: "Fail", SKIPPED: "Skipped" } as const;

/** The Guardian's verdict: score, reasons and every check with its evidence. */
export function VerificationView(props: { verification: VerificationFieldsFragment | null | undefined }) {
  const v = props.verification;
  if (!v) return <p class="muted">The Guardian has not scored this proof yet.</p>;
  return (
    <div class="verification" data-verdict={v.verdict}>
      <p>
        <span class={`badge verdict-${v.verdict.toLowerCase()}`}>Verdict: {v.verdict}</span> <span>Score {v.score}/100</span>{" "}
        <span class="muted">by {v.scorer}</span>
      </p>
      {v.reasons.length ? (
        <ul class="reasons">
          {v.reasons.map((reason) => (
            <li key={reason}>{reason}</li>
          ))}
        </ul>
      ) : null}
      {v.checks.length ? (
        <DataTable caption="Guardian checks" columns={["Check", "Photo", "Outcome", "Evidence"]} class="checks">
          {v.checks.map((check, i) => (
            <tr key={i}>
              <td>{check.name}</td>
              <td>{check.photo === null ? "all" : `#${check.photo + 1}`}</td>
              <td>
                <span class={`outcome outcome-${check.outcome.toLowerCase()}`}>{OUTCOME_LABEL[check.outcome]}</span>
              </td>
              <td>{check.detail}</td>
            </tr>
          ))}
        </DataTable>
      ) : null}
    </div>
  );
}

/** Events that leave the status as it was, by what they record. */
const EVENT_LABELS: Partial<Record<TaskDetailFragment["events"][number]["kind"], string>> = {
  TASK_CHANGED: "Changed",
  TIPPED: "Tipped",
  TIP_PAID: "Tip paid on chain",
  RATED: "Rated",
  MESSAGE_POSTED: "Message",
};

export function Timeline(props: { events: TaskDetailFragment["events"] }) {
  return (
    <ol class="timeline">
      {props.events.map((event) => (
        <li key={event.id}>
          <time dateTime={event.createdAt}>{dateTime(event.createdAt)}</time>{" "}
          {event.kind === "ESCROW_FUNDED" ? (
            <strong>Escrow funded on chain</strong>
          ) : EVENT_LABELS[event.kind] ? (
            <strong>{EVENT_LABELS[event.kind]}</strong>
          ) : (
            <strong>
              {event.fromStatus ? `${event.fromStatus} → ` : ""}
              {event.toStatus}
            </strong>
          )}{" "}
          <span class="muted">by {event.actorType.toLowerCase()}</span>
          {event.reason ? <div class="muted">{event.reason}</div> : null}
        </li>
      ))}
    </ol>
  );
}

/** Proof photos as thumbnails; a click opens the full-size copy in a dialog. */
export function ProofPhotos(props: { proof: TaskDetailFragment["proofs"][number] }) {
  const [open, setOpen] = useState<TaskDetailFragment["proofs"][number]["photos"][number] | undefined>(undefined);
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (open && dialog.current && !dialog.current.open) dialog.current.showModal();
  }, [open]);
  return (
    <div>
      <ul class="photos">
        {props.proof.photos.map((photo) => (
          <li key={photo.id}>
            <button type="button" class="photo-button" onClick={() => setOpen(photo)} aria-label={`Open photo ${photo.position + 1} full size`}>
              {photo.thumbnail ? <img src={photo.thumbnail} alt={`Proof photo ${photo.position + 1} (thumbnail)`} loading="lazy" /> : <span class="no-preview">No preview</span>}
            </button>
            <div class="muted small">
              {photo.width && photo.height ? `${photo.width}×${photo.height}` : "not decodable"} · {photo.byteSize < 1024 ? `${photo.byteSize} bytes` : `${Math.round(photo.byteSize / 1024)} KB`}
              {photo.distanceFromTaskM !== null ? ` · ${Math.round(photo.distanceFromTaskM)} m from the task` : " · no GPS"}
              {photo.takenAt ? ` · taken ${dateTime(photo.takenAt)}` : ""}
            </div>
          </li>
        ))}
      </ul>
      {open ? (
        <dialog ref={dialog} class="lightbox" onClose={() => setOpen(undefined)} aria-label={`Photo ${open.position + 1}`}>
          <form method="dialog">
            <button type="submit" class="secondary">
              Close
            </button>
            {open.original ? (
              <a href={open.original} target="_blank" rel="noopener">
                Original file
              </a>
            ) : null}
          </form>
          {open.display ? <img src={open.display} alt={`Proof photo ${open.position + 1} (full size)`} /> : <p>This photo does not decode; only the original file is kept.</p>}
        </dialog>
      ) : null}
    </div>
  );
}

export function EscrowView(props: { escrow: TaskDetailFragment["escrow"] }) {
  const e = props.escrow;
  if (!e) return <p class="muted">No on-chain escrow yet.</p>;
  const tx = (label: string, hash: string | null) =>
    hash ? (
      <>
        <dt>{label}</dt>
        <dd>
          <code title={hash}>{shortHash(hash)}</code>
        </dd>
      </>
    ) : null;
  return (
    <dl class="facts">
      <dt>Status</dt>
      <dd data-escrow-status={e.status}>{e.status}</dd>
      <dt>Amount</dt>
      <dd>{money(e.amount)}</dd>
      <dt>Network</dt>
      <dd>
        {e.network} (chain {e.chainId})
      </dd>
      <dt>Contract</dt>
      <dd>
        <code title={e.contract}>{shortHash(e.contract)}</code>
      </dd>
      {tx("Funding transaction", e.fundTxHash)}
      {tx("Release transaction", e.releaseTxHash)}
      {tx("Refund transaction", e.refundTxHash)}
      {e.payee ? (
        <>
          <dt>Paid to</dt>
          <dd>
            <code>{e.payee}</code>
          </dd>
        </>
      ) : null}
      {e.basescanUrl ? (
        <>
          <dt>Explorer</dt>
          <dd>
            <a href={e.basescanUrl} target="_blank" rel="noopener">
              View on Basescan
            </a>
          </dd>
        </>
      ) : null}
    </dl>
  );
}

/** Names the browser tab (and what a screen reader announces on navigation) after the screen. */
/**
 * What starts an action (a button, a form) uses while it runs: `busy` to
 * disable it meanwhile, the last run's `error` to show, and `run`, which
 * clears that error, awaits the action and keeps what it threw. `run`
 * resolves true when the action succeeded.
 */
export function useAction(): { busy: boolean; error: unknown; setError: (error: unknown) => void; run: (action: () => Promise<unknown>) => Promise<boolean> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (action: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

export function useTitle(title: string | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · HumanOps` : "HumanOps";
  }, [title]);
}

/** A page of a connection, as the app's list queries select it. */
export interface Page<T> {
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

/**
 * "Load older …" under a paged list: fetches the page after `cursor`, hands
 * its nodes and the next cursor (null at the end) to `onPage`, and shows a
 * failure in place, so the list already shown stays. Hidden when there is
 * no next page.
 */
export function LoadMore<T>(props: { cursor: string | null | undefined; label: string; load: (after: string) => Promise<Page<T>>; onPage: (nodes: T[], next: string | null) => void }) {
  const { busy: loading, error, run } = useAction();
  const { cursor } = props;
  if (!cursor) return null;
  return (
    <>
      <ErrorBox error={error} title="The next page could not be loaded" />
      <button
        type="button"
        class="secondary"
        disabled={loading}
        onClick={() =>
          run(async () => {
            const page = await props.load(cursor);
            props.onPage(page.nodes, nextCursor(page));
          })
        }
      >
        {props.label}
      </button>
    </>
  );
}

/** The cursor of the page after this one, or null when this is the last. */
export function nextCursor(page: Page<unknown>): string | null {
  return page.pageInfo.hasNextPage ? (page.pageInfo.endCursor ?? null) : null;
}

/** A table of `children` rows under column headings, with a caption for screen readers only. */
export function DataTable(props: { caption: string; columns: string[]; class?: string; children: ComponentChildren }) {
  return (
    <table class={props.class}>
      <caption class="visually-hidden">{props.caption}</caption>
      <thead>
        <tr>
          {props.columns.map((column, i) => (
            <th scope="col" key={i}>
              {column}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  );
}
