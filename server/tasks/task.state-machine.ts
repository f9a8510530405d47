import { ConflictError } from "../common/errors";
import { TaskStatus } from "./task.enums";
import { isTerminal, TERMINAL_STATUSES } from "../api/enums";

/**
 * The task lifecycle, in one place. Every status change in HumanOps goes
 * through `assertTransition`; anything not listed here is a CONFLICT.
 *
 *   POSTED ──accept──▶ ACCEPTED ──submit──▶ SUBMITTED ──score ≥ approve──▶ VERIFIED ──settle──▶ PAID
 *     ▲ ◀───release────┘  │                    ├──score in between──▶ MANUAL_REVIEW ──approve──▶ VERIFIED
 *     │                   │                    └──score < reject──▶ REJECTED ◀──reject──┘
 *     │                   │                                            │ resubmit ─▶ SUBMITTED
 *     ├─cancel/expire─────┴──▶ CANCELLED / EXPIRED ◀── cancel, or no attempts or time left ─┘
 *
 * The agent can end every state that holds money and waits on someone else
 * with a full refund (cancel POSTED, ACCEPTED, REJECTED; reject in
 * MANUAL_REVIEW, then cancel); SUBMITTED waits only for the Guardian's
 * score and VERIFIED only for the release. ACCEPTED → POSTED is the one way
 * back: an operator giving the task up (releaseTask).
 *
 * SUBMITTED and MANUAL_REVIEW do not expire: proof that arrived in time is
 * judged, and the deadline is checked again if it is rejected.
 *
 * A task with a review window holds its release after VERIFIED; while it
 * holds, the agent may dispute: VERIFIED → DISPUTED. Only the platform (an
 * admin) ends a dispute: DISPUTED → VERIFIED releases the escrow to the
 * operator, DISPUTED → CANCELLED refunds the agent. DISPUTED does not expire.
 */
export const TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  [TaskStatus.POSTED]: [TaskStatus.ACCEPTED, TaskStatus.CANCELLED, TaskStatus.EXPIRED],
  [TaskStatus.ACCEPTED]: [TaskStatus.SUBMITTED, TaskStatus.POSTED, TaskStatus.CANCELLED, TaskStatus.EXPIRED],
  [TaskStatus.SUBMITTED]: [TaskStatus.VERIFIED, TaskStatus.MANUAL_REVIEW, TaskStatus.REJECTED],
  [TaskStatus.MANUAL_REVIEW]: [TaskStatus.VERIFIED, TaskStatus.REJECTED],
  [TaskStatus.REJECTED]: [TaskStatus.SUBMITTED, TaskStatus.CANCELLED, TaskStatus.EXPIRED],
  [TaskStatus.VERIFIED]: [TaskStatus.PAID, TaskStatus.DISPUTED],
  [TaskStatus.PAID]: [],
  [TaskStatus.CANCELLED]: [],
  [TaskStatus.EXPIRED]: [],
  [TaskStatus.DISPUTED]: [TaskStatus.VERIFIED, TaskStatus.CANCELLED],
};

export { TERMINAL_STATUSES, isTerminal };

/** Statuses in which the deadline passing ends the task. */
export const EXPIRABLE_STATUSES: readonly TaskStatus[] = [TaskStatus.POSTED, TaskStatus.ACCEPTED, TaskStatus.REJECTED];

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: TaskStatus, to: TaskStatus): void {
  if (!canTransition(from, to)) {
    const allowed = TRANSITIONS[from];
    throw new ConflictError(
      `a ${from} task cannot become ${to}` + (allowed.length ? ` (from ${from} it can become ${allowed.join(", ")})` : ` (${from} is final)`),
      { from, to },
    );
  }
}
