import { ValidationError } from "../common/errors";
import { parseUsd } from "../common/money";
import type { Config } from "../config";
import { TaskType, TestScenario } from "./task.enums";
import { ACCEPT_WINDOW_MINUTES } from "./task.limits";
import { LIMITS, RATING, REVIEW_WINDOW_MINUTES } from "../api/limits";

/** What a client sends to post a task, before validation (GraphQL names). */
export interface PostTaskRequest {
  title: string;
  description: string;
  taskType: TaskType;
  location: { lat: number; lng: number; address?: string | null };
  rewardUsd: string | number;
  deadline: Date;
  proofRequirements?: string[] | null;
  maxAttempts?: number | null;
  acceptWindowMinutes?: number | null;
  minCompletedTasks?: number | null;
  minRating?: number | null;
  testScenario?: TestScenario | null;
  reviewWindowMinutes?: number | null;
  idempotencyKey?: string | null;
  /** An x402 v2 payment (the PAYMENT-SIGNATURE header's value) for reward + fee, instead of the agent's balance. */
  x402Payment?: string | null;
}

export interface ValidTaskRequest {
  title: string;
  description: string;
  taskType: TaskType;
  lat: number;
  lng: number;
  address?: string;
  rewardUnits: bigint;
  deadline: Date;
  proofRequirements: string[];
  maxAttempts: number;
  acceptWindowMinutes: number;
  minCompletedTasks: number | null;
  minRating: number | null;
  reviewWindowMinutes: number | null;
  testScenario?: TestScenario;
  idempotencyKey?: string;
}

export { LIMITS };

function text(value: unknown, field: string, max: number, required: boolean): string | undefined {
  if (value === undefined || value === null) {
    if (required) throw new ValidationError(field, "is required");
    return undefined;
  }
  if (typeof value !== "string") throw new ValidationError(field, "must be a string");
  const trimmed = value.trim();
  if (required && trimmed.length === 0) throw new ValidationError(field, "must not be empty");
  if (trimmed.length > max) throw new ValidationError(field, `must be at most ${max} characters (got ${trimmed.length})`);
  return trimmed.length ? trimmed : undefined;
}

function coordinate(value: unknown, field: string, limit: number): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new ValidationError(field, "must be a number");
  if (value < -limit || value > limit) throw new ValidationError(field, `must be between -${limit} and ${limit}`);
  return value;
}

/** A task reward in USDC base units, within the configured bounds. */
export function parseReward(value: string | number | null | undefined, config: Config): bigint {
  if (value === undefined || value === null) throw new ValidationError("rewardUsd", "is required");
  const rewardUnits = parseUsd(value, "rewardUsd");
  if (rewardUnits <= 0n) throw new ValidationError("rewardUsd", "must be greater than 0");
  if (rewardUnits < config.tasks.minRewardUnits) {
    throw new ValidationError("rewardUsd", `must be at least ${Number(config.tasks.minRewardUnits) / 1e6} USD`);
  }
  if (rewardUnits > config.tasks.maxRewardUnits) {
    throw new ValidationError("rewardUsd", `must be at most ${Number(config.tasks.maxRewardUnits) / 1e6} USD`);
  }
  return rewardUnits;
}

/** Checks every rule of a new task; the first broken rule is reported with its field. */
export function validatePostTask(request: PostTaskRequest, config: Config, now = new Date()): ValidTaskRequest {
  const title = text(request.title, "title", LIMITS.titleChars, true)!;
  const description = text(request.description, "description", LIMITS.descriptionChars, true)!;
  if (!Object.values(TaskType).includes(request.taskType)) {
    throw new ValidationError("taskType", `must be one of ${Object.values(TaskType).join(", ")}`);
  }
  if (!request.location || typeof request.location !== "object") throw new ValidationError("location", "is required");
  const lat = coordinate(request.location.lat, "location.lat", 90);
  const lng = coordinate(request.location.lng, "location.lng", 180);
  const address = text(request.location.address, "location.address", LIMITS.addressChars, false);

  const rewardUnits = parseReward(request.rewardUsd, config);

  if (!(request.deadline instanceof Date) || Number.isNaN(request.deadline.getTime())) {
    throw new ValidationError("deadline", "must be an ISO-8601 date-time, e.g. 2026-02-07T18:00:00Z");
  }
  if (request.deadline.getTime() <= now.getTime()) throw new ValidationError("deadline", "must be in the future");
  if (request.deadline.getTime() < now.getTime() + LIMITS.minLeadMs) {
    throw new ValidationError("deadline", "must be at least one minute from now");
  }
  const maxDeadline = now.getTime() + config.tasks.maxDeadlineDays * 86_400_000;
  if (request.deadline.getTime() > maxDeadline) {
    throw new ValidationError("deadline", `must be within ${config.tasks.maxDeadlineDays} days`);
  }

  const requirements = request.proofRequirements ?? [];
  if (!Array.isArray(requirements)) throw new ValidationError("proofRequirements", "must be a list of strings");
  if (requirements.length > LIMITS.requirements) {
    throw new ValidationError("proofRequirements", `must have at most ${LIMITS.requirements} items`);
  }
  const proofRequirements = requirements.map((item, i) => text(item, `proofRequirements[${i}]`, LIMITS.requirementChars, true)!);

  const maxAttempts = request.maxAttempts ?? config.tasks.defaultMaxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > LIMITS.maxAttempts) {
    throw new ValidationError("maxAttempts", `must be a whole number from 1 to ${LIMITS.maxAttempts}`);
  }
  const acceptWindowMinutes = request.acceptWindowMinutes ?? config.tasks.defaultAcceptWindowMinutes;
  if (!Number.isInteger(acceptWindowMinutes) || acceptWindowMinutes < ACCEPT_WINDOW_MINUTES.min || acceptWindowMinutes > ACCEPT_WINDOW_MINUTES.max) {
    throw new ValidationError("acceptWindowMinutes", `must be a whole number of minutes from ${ACCEPT_WINDOW_MINUTES.min} to ${ACCEPT_WINDOW_MINUTES.max} (7 days)`);
  }
  const minCompletedTasks = request.minCompletedTasks ?? null;
  if (minCompletedTasks !== null && (!Number.isInteger(minCompletedTasks) || minCompletedTasks < 0 || minCompletedTasks > RATING.maxMinCompletedTasks)) {
    throw new ValidationError("minCompletedTasks", `must be a whole number from 0 to ${RATING.maxMinCompletedTasks}`);
  }
  const minRating = request.minRating ?? null;
  if (minRating !== null && !(typeof minRating === "number" && minRating >= RATING.minScore && minRating <= RATING.maxScore)) {
    throw new ValidationError("minRating", `must be a number from ${RATING.minScore} to ${RATING.maxScore}`);
  }
  const reviewWindowMinutes = request.reviewWindowMinutes ?? null;
  if (reviewWindowMinutes !== null && (!Number.isInteger(reviewWindowMinutes) || reviewWindowMinutes < REVIEW_WINDOW_MINUTES.min || reviewWindowMinutes > REVIEW_WINDOW_MINUTES.max)) {
    throw new ValidationError("reviewWindowMinutes", `must be a whole number of minutes from ${REVIEW_WINDOW_MINUTES.min} to ${REVIEW_WINDOW_MINUTES.max} (7 days), or null for an immediate release`);
  }
  if (request.testScenario != null && !Object.values(TestScenario).includes(request.testScenario)) {
    throw new ValidationError("testScenario", `must be one of ${Object.values(TestScenario).join(", ")}`);
  }
  const idempotencyKey = text(request.idempotencyKey, "idempotencyKey", LIMITS.idempotencyKeyChars, false);

  return {
    title,
    description,
    taskType: request.taskType,
    lat,
    lng,
    address,
    rewardUnits,
    deadline: request.deadline,
    proofRequirements,
    maxAttempts,
    acceptWindowMinutes,
    minCompletedTasks,
    minRating,
    reviewWindowMinutes,
    testScenario: request.testScenario ?? undefined,
    idempotencyKey,
  };
}
