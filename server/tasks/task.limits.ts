/**
 * Upper bounds of a task's lists, from the settings' own ceilings: the
 * GraphQL query budget (server/graphql/query-budget.ts) counts a task's
 * lists at these sizes.
 */

/** TASK_MAX_ATTEMPTS is at most 10, and each attempt has one proof. */
export const MAX_PROOF_ATTEMPTS = 10;

/** Events of one task: created, funded, accepted, up to three per proof attempt, and the ending ones. */
export const MAX_TASK_EVENTS = 50;

/** MAX_PHOTOS_PER_PROOF is at most 50. */
export const MAX_PHOTOS_PER_PROOF = 50;

export { ACCEPT_WINDOW_MINUTES } from "../api/limits";
