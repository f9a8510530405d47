import { UniqueConstraintViolationException } from "@mikro-orm/core";
import type { Em } from "../db/orm";
import { lockForUpdate } from "../db/dialect";
import { ConflictError, ForbiddenError } from "../common/errors";
import { Mode } from "../common/mode";
import { KycStatus, Operator } from "../operators/operator.entity";
import type { OperatorPrincipal } from "../tasks/task.service";
import type { KycSettings } from "./kyc.config";
import { KycApplicant } from "./kyc-applicant.entity";
import { SumsubClient, SumsubError } from "./sumsub.client";
import { parseSumsubTime, type SumsubEvent } from "./sumsub.webhook";
import type { Logger } from "../common/logger";
import { enqueue } from "../jobs/job.queue";
import type { SumsubReviewStatus } from "./sumsub.client";
import { JobKinds } from "../jobs/job.kinds";

export const KycJobs = JobKinds.kyc;

/**
 * When to ask Sumsub again about an applicant still undecided here, after it
 * was created: its webhook may have been lost. Most reviews finish within
 * minutes; manual ones can take days.
 */
export const RECHECK_AFTER_MS = [15 * 60_000, 60 * 60_000, 6 * 3_600_000, 24 * 3_600_000, 72 * 3_600_000] as const;

export interface StartedKyc {
  applicant: KycApplicant;
  /** For Sumsub's WebSDK; a fresh one on every call. */
  accessToken: string;
  expiresAt: Date;
  kycStatus: KycStatus;
}

/** What a webhook did: applied, older than (or the same as) what is already applied, or about an applicant HumanOps did not create. */
export type KycEventOutcome = { outcome: "applied"; kycStatus: KycStatus } | { outcome: "stale" } | { outcome: "unknown-applicant" };

/**
 * Live operators verify their identity with Sumsub: startKyc creates their
 * applicant once and hands out WebSDK tokens; Sumsub's signed webhooks then
 * move Operator.kycStatus. Test mode never needs any of this.
 */
export class KycService {
  private readonly client?: SumsubClient;

  constructor(
    private readonly settings: KycSettings | undefined,
    private readonly log: Logger,
  ) {
    this.client = settings && new SumsubClient(settings);
  }

  async start(em: Em, principal: OperatorPrincipal): Promise<StartedKyc> {
    if (principal.mode !== Mode.LIVE) {
      throw new ForbiddenError("test mode needs no KYC: test tasks are accepted without identity verification; call startKyc with your live key (ho_live_...) to verify for live tasks");
    }
    const { settings, client } = this.configured();
    const operator = await em.findOneOrFail(Operator, principal.operatorId);
    const known = await em.findOne(KycApplicant, { operator: operator.id });
    const applicant = known ?? (await this.register(em, operator, settings, client));
    const kycStatus = known && operator.kycStatus === KycStatus.PENDING ? await this.catchUp(em, client, known, operator) : operator.kycStatus;
    const issuedAt = Date.now();
    const { token } = await client.accessToken(operator.id, applicant.levelName, settings.tokenTtlSeconds);
    return { applicant, accessToken: token, expiresAt: new Date(issuedAt + settings.tokenTtlSeconds * 1000), kycStatus };
  }

  /**
   * A PENDING operator coming back to KYC: asks Sumsub for the applicant's
   * review, so a decision whose webhook was lost still lands. It is applied
   * as that webhook would have been, ordered by its review date; an answer
   * without one, or a failed call, leaves things to the webhooks.
   */
  private async catchUp(em: Em, client: SumsubClient, applicant: KycApplicant, operator: Operator): Promise<KycStatus> {
    try {
      const event = reviewEvent(applicant.applicantId, operator.id, await client.reviewStatus(applicant.applicantId));
      if (!event) return operator.kycStatus;
      const applied = await this.applyEvent(em.fork(), event);
      return applied.outcome === "applied" ? applied.kycStatus : operator.kycStatus;
    } catch (err) {
      if (!(err instanceof SumsubError)) throw err;
      this.log.warn({ applicantId: applicant.applicantId, err: err.message }, "could not read the Sumsub review status; waiting for its webhook");
      return operator.kycStatus;
    }
  }

  async applicantOf(em: Em, operatorId: string): Promise<KycApplicant | null> {
    return em.findOne(KycApplicant, { operator: operatorId });
  }

  /**
   * Applies one verified webhook in one transaction with the operator's
   * kycStatus. Only events newer than the last one applied count, so Sumsub's
   * retries and late deliveries change nothing.
   */
  async applyEvent(em: Em, event: SumsubEvent): Promise<KycEventOutcome> {
    return em.transactional(async (tx): Promise<KycEventOutcome> => {
      const applicant = await tx.findOne(KycApplicant, { applicantId: event.applicantId }, lockForUpdate(tx));
      if (!applicant) return { outcome: "unknown-applicant" };
      if (applicant.operator.id !== event.externalUserId) {
        throw new ConflictError(`externalUserId: applicant ${event.applicantId} belongs to another operator than ${event.externalUserId}`);
      }
      if (applicant.lastEventAtMs !== undefined && event.createdAtMs <= applicant.lastEventAtMs) return { outcome: "stale" };
      const operator = await tx.findOneOrFail(Operator, applicant.operator.id, lockForUpdate(tx));
      applicant.lastEventAtMs = event.createdAtMs;
      applicant.lastEventType = event.type;
      applicant.reviewStatus = event.reviewStatus ?? applicant.reviewStatus;
      if (event.type === "applicantReviewed") {
        const red = event.reviewAnswer === "RED";
        applicant.reviewAnswer = event.reviewAnswer;
        applicant.rejectType = red ? event.rejectType : undefined;
        applicant.reason = red ? event.reason : undefined;
        operator.kycStatus = decision(event);
      } else if (event.type === "applicantReset") {
        // Sumsub wiped the applicant's documents: a new review is needed.
        applicant.reviewAnswer = applicant.rejectType = applicant.reason = undefined;
        operator.kycStatus = KycStatus.PENDING;
      }
      return { outcome: "applied", kycStatus: operator.kycStatus };
    });
  }

  /** Queues the `attempt`-th check of an applicant's review with Sumsub (none after the last delay). */
  scheduleRecheck(em: Em, applicantId: string, attempt: number): void {
    const delay = RECHECK_AFTER_MS[attempt];
    if (delay === undefined) return;
    enqueue(em, KycJobs.recheck, { applicantId, attempt }, { runAt: Date.now() + delay, dedupeKey: `${KycJobs.recheck}:${applicantId}:${attempt}` });
  }

  /**
   * The review Sumsub holds for an applicant still PENDING here, as the
   * webhook it would have sent; undefined when there is nothing to ask
   * (decided here already, or KYC no longer configured). Reads only.
   */
  async pendingReview(em: Em, applicantId: string): Promise<{ event?: SumsubEvent } | undefined> {
    if (!this.client) return undefined;
    const applicant = await em.findOne(KycApplicant, { applicantId }, { populate: ["operator"] });
    if (!applicant || applicant.operator.kycStatus !== KycStatus.PENDING) return undefined;
    return { event: reviewEvent(applicantId, applicant.operator.id, await this.client.reviewStatus(applicantId)) };
  }

  private configured(): { settings: KycSettings; client: SumsubClient } {
    if (!this.settings || !this.client) throw new ForbiddenError("KYC is not configured on this server (SUMSUB_APP_TOKEN, SUMSUB_SECRET_KEY, SUMSUB_WEBHOOK_SECRET)");
    return { settings: this.settings, client: this.client };
  }

  /**
   * Creates the Sumsub applicant, outside any transaction (a slow outside
   * call). Sumsub keeps one applicant per externalUserId, so two racing
   * calls end with the same applicant, and the unique operator_id keeps one row.
   */
  private async register(em: Em, operator: Operator, settings: KycSettings, client: SumsubClient): Promise<KycApplicant> {
    const remote = await client.ensureApplicant(operator.id, settings.levelName);
    if (remote.externalUserId && remote.externalUserId !== operator.id) {
      throw new SumsubError("create applicant", undefined, `applicant ${remote.id} is for another externalUserId`);
    }
    try {
      return await em.transactional(async (tx) => {
        const applicant = new KycApplicant(tx.getReference(Operator, operator.id), remote.id, remote.levelName ?? settings.levelName);
        tx.persist(applicant);
        this.scheduleRecheck(tx, remote.id, 0);
        return applicant;
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) return em.fork().findOneOrFail(KycApplicant, { operator: operator.id });
      throw err;
    }
  }
}

/** A completed review read from Sumsub's status API, as the applicantReviewed webhook would carry it; undefined while not completed or undated. */
function reviewEvent(applicantId: string, operatorId: string, status: SumsubReviewStatus): SumsubEvent | undefined {
  const reviewedAt = status.reviewDate ? parseSumsubTime(status.reviewDate) : undefined;
  const answer = status.reviewResult?.reviewAnswer;
  if (status.reviewStatus !== "completed" || !answer || reviewedAt === undefined) return undefined;
  return {
    type: "applicantReviewed",
    applicantId,
    externalUserId: operatorId,
    createdAtMs: reviewedAt,
    reviewStatus: status.reviewStatus,
    reviewAnswer: answer,
    rejectType: status.reviewResult?.reviewRejectType,
    reason: status.reviewResult?.moderationComment,
  };
}

/** GREEN approves; RED FINAL rejects for good; RED RETRY (or anything unclear) leaves the operator PENDING so they may resubmit. */
function decision(event: SumsubEvent): KycStatus {
  if (event.reviewAnswer === "GREEN") return KycStatus.APPROVED;
  if (event.reviewAnswer === "RED" && event.rejectType === "FINAL") return KycStatus.REJECTED;
  return KycStatus.PENDING;
}
