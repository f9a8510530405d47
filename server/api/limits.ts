/** The limits of a task's fields, as every transport states and HumanOps enforces them (server/tasks/task.validation.ts). */
export const LIMITS = {
  titleChars: 200,
  descriptionChars: 5_000,
  addressChars: 500,
  requirements: 20,
  requirementChars: 500,
  notesChars: 5_000,
  idempotencyKeyChars: 255,
  /** Proof submissions a task may allow. */
  maxAttempts: 10,
  /** A reason given for a transition (the length of task_events.reason). */
  reasonChars: 1_000,
  /** A deadline must leave the operator at least this long. */
  minLeadMs: 60_000,
} as const;

/** An accept window (TASK_ACCEPT_WINDOW_MINUTES, a task's acceptWindowMinutes), in minutes: from 5 minutes to 7 days. */
export const ACCEPT_WINDOW_MINUTES = { min: 5, max: 7 * 24 * 60 } as const;

/** A task's message thread: each message's text and photos, how many messages a task's threads hold, and how long after the task ends they take new ones. */
export const MESSAGE_LIMITS = { textChars: 4_000, photos: 4, perTask: 500, openDaysAfterEnd: 7 } as const;
/** Reputation: a rating's score and comment, how long it stays editable, and the bounds of a task's minimum operator record. */
export const RATING = {
  minScore: 1,
  maxScore: 5,
  commentChars: 1_000,
  editableMs: 24 * 60 * 60 * 1000,
  /** A task's minCompletedTasks: a whole number from 0 to this. */
  maxMinCompletedTasks: 10_000,
} as const;
/** A task's review window (reviewWindowMinutes), in minutes: how long the release waits after VERIFIED for the agent to dispute; from 5 minutes to 7 days. */
export const REVIEW_WINDOW_MINUTES = { min: 5, max: 7 * 24 * 60 } as const;
