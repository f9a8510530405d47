import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { appAccessSignature, SumsubHeaders } from "../../server/kyc/sumsub.client";
import { DigestHeaders, payloadDigest, type DigestAlgorithm } from "../../server/kyc/sumsub.webhook";

/**
 * A local stand-in for api.sumsub.com, speaking the same HTTP protocol as
 * the client in server/kyc/sumsub.client.ts expects from the real one: every
 * request must carry X-App-Token, X-App-Access-Ts and a matching
 * X-App-Access-Sig, or it is refused with 401 and Sumsub's error shape
 * ({description, code, correlationId}). It keeps applicants in memory and,
 * for tests, plays Sumsub's reviewer: `review()` POSTs a signed
 * applicantReviewed webhook to HumanOps.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  body: string;
  signatureValid: boolean;
  headers: http.IncomingHttpHeaders;
}

interface FakeApplicant {
  id: string;
  externalUserId: string;
  levelName: string;
  createdAt: string;
  reviewStatus: string;
  reviewResult?: Record<string, unknown>;
  /** When the review was completed, as Sumsub writes it ("yyyy-MM-dd HH:mm:ss", UTC). */
  reviewDate?: string;
}

export type ReviewDecision = "GREEN" | { answer: "RED"; rejectType: "FINAL" | "RETRY"; comment?: string; labels?: string[] };

export interface SentWebhook {
  status: number;
  body: string;
  rawBody: string;
  headers: Record<string, string>;
}

/** How far X-App-Access-Ts may be from the fake's clock (Sumsub refuses stale or future timestamps). */
const TIMESTAMP_TOLERANCE_SECONDS = 300;

export class FakeSumsub {
  readonly appToken = `sbx:${randomBytes(12).toString("hex")}.${randomBytes(16).toString("hex")}`;
  readonly secretKey = randomBytes(16).toString("hex");
  readonly webhookSecret = randomBytes(16).toString("hex");
  readonly levelName = "basic-kyc-level";
  readonly requests: RecordedRequest[] = [];
  readonly applicants = new Map<string, FakeApplicant>();
  readonly issuedTokens: string[] = [];
  /** Where review() delivers webhooks: HumanOps's /webhooks/sumsub. */
  webhookUrl?: string;
  url = "";
  private readonly server = http.createServer((req, res) => void this.handle(req, res));

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The SUMSUB_* variables that point HumanOps at this fake. */
  env(): Record<string, string> {
    return {
      SUMSUB_BASE_URL: this.url,
      SUMSUB_APP_TOKEN: this.appToken,
      SUMSUB_SECRET_KEY: this.secretKey,
      SUMSUB_WEBHOOK_SECRET: this.webhookSecret,
      SUMSUB_LEVEL_NAME: this.levelName,
    };
  }

  applicantFor(externalUserId: string): FakeApplicant | undefined {
    return [...this.applicants.values()].find((a) => a.externalUserId === externalUserId);
  }

  /**
   * Decides an applicant's review and delivers applicantReviewed, as Sumsub
   * does: the real payload shape, createdAtMs "yyyy-MM-dd HH:mm:ss.SSS" UTC,
   * X-Payload-Digest over the exact bytes sent.
   */
  async review(applicantId: string, decision: ReviewDecision, options: { at?: Date; algorithm?: DigestAlgorithm } = {}): Promise<SentWebhook> {
    const { applicant, reviewResult } = this.decide(applicantId, decision, options.at);
    return this.sendEvent(applicant, "applicantReviewed", { reviewResult, reviewStatus: "completed" }, options);
  }

  /** Decides an applicant's review without delivering the webhook (as if it were lost): only the status API tells. */
  decide(applicantId: string, decision: ReviewDecision, at = new Date()): { applicant: FakeApplicant; reviewResult: Record<string, unknown> } {
    const applicant = this.applicants.get(applicantId);
    if (!applicant) throw new Error(`the fake has no applicant ${applicantId}`);
    const reviewResult =
      decision === "GREEN"
        ? { reviewAnswer: "GREEN" }
        : {
            reviewAnswer: "RED",
            reviewRejectType: decision.rejectType,
            rejectLabels: decision.labels ?? ["UNSATISFACTORY_PHOTOS"],
            moderationComment: decision.comment ?? "We could not verify your document.",
            clientComment: "internal note for the platform only",
          };
    applicant.reviewStatus = "completed";
    applicant.reviewResult = reviewResult;
    applicant.reviewDate = at.toISOString().slice(0, 19).replace("T", " ");
    return { applicant, reviewResult };
  }

  /** Any other applicant event (applicantPending, applicantOnHold, ...). */
  async event(applicantId: string, type: string, reviewStatus: string, options: { at?: Date; algorithm?: DigestAlgorithm } = {}): Promise<SentWebhook> {
    const applicant = this.applicants.get(applicantId);
    if (!applicant) throw new Error(`the fake has no applicant ${applicantId}`);
    applicant.reviewStatus = reviewStatus;
    return this.sendEvent(applicant, type, { reviewStatus }, options);
  }

  /** POSTs bytes to the webhook URL as given, e.g. a replay or a forgery. */
  async post(rawBody: string, headers: Record<string, string>): Promise<SentWebhook> {
    if (!this.webhookUrl) throw new Error("set webhookUrl first");
    const res = await fetch(this.webhookUrl, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: rawBody });
    return { status: res.status, body: await res.text(), rawBody, headers };
  }

  private sendEvent(applicant: FakeApplicant, type: string, fields: Record<string, unknown>, options: { at?: Date; algorithm?: DigestAlgorithm }): Promise<SentWebhook> {
    const rawBody = JSON.stringify({
      applicantId: applicant.id,
      inspectionId: randomBytes(12).toString("hex"),
      correlationId: `req-${randomUUID()}`,
      levelName: applicant.levelName,
      externalUserId: applicant.externalUserId,
      type,
      sandboxMode: true,
      ...fields,
      createdAtMs: (options.at ?? new Date()).toISOString().replace("T", " ").replace("Z", ""),
      applicantType: "individual",
    });
    const algorithm = options.algorithm ?? "HMAC_SHA256_HEX";
    return this.post(rawBody, { [DigestHeaders.digest]: payloadDigest(this.webhookSecret, rawBody, algorithm), [DigestHeaders.algorithm]: algorithm });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const path = req.url ?? "/";
    const signatureValid = this.authentic(req, path, body);
    this.requests.push({ method: req.method ?? "", path, body, signatureValid, headers: req.headers });
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    const fail = (status: number, description: string) => send(status, { description, code: status, correlationId: `req-${randomUUID()}` });
    if (!req.headers["x-app-token"]) return fail(401, "App token is not provided");
    if (!signatureValid) return fail(401, "Request signature mismatch");

    const url = new URL(path, "http://fake");
    const json = () => (body ? (JSON.parse(body) as Record<string, unknown>) : {});
    if (req.method === "POST" && url.pathname === "/resources/applicants") {
      const levelName = url.searchParams.get("levelName");
      const { externalUserId } = json();
      if (!levelName) return fail(400, "levelName is required");
      if (typeof externalUserId !== "string" || !externalUserId) return fail(400, "externalUserId is required");
      const existing = this.applicantFor(externalUserId);
      if (existing) return fail(409, `Applicant with external user id '${externalUserId}' already exists: ${existing.id}`);
      const applicant: FakeApplicant = { id: randomBytes(12).toString("hex"), externalUserId, levelName, createdAt: new Date().toISOString().replace("T", " ").slice(0, 19), reviewStatus: "init" };
      this.applicants.set(applicant.id, applicant);
      return send(201, this.present(applicant));
    }
    const byExternal = /^\/resources\/applicants\/-;externalUserId=([^/]+)\/one$/.exec(url.pathname);
    if (req.method === "GET" && byExternal) {
      const applicant = this.applicantFor(decodeURIComponent(byExternal[1]));
      return applicant ? send(200, this.present(applicant)) : fail(404, "Applicant not found");
    }
    if (req.method === "POST" && url.pathname === "/resources/accessTokens/sdk") {
      const { userId, levelName, ttlInSecs } = json();
      if (typeof userId !== "string" || typeof levelName !== "string") return fail(400, "userId and levelName are required");
      if (ttlInSecs !== undefined && (typeof ttlInSecs !== "number" || ttlInSecs <= 0)) return fail(400, "ttlInSecs must be a positive number");
      const token = `_act-sbx-jwt-${randomBytes(24).toString("hex")}`;
      this.issuedTokens.push(token);
      return send(200, { token, userId });
    }
    const status = /^\/resources\/applicants\/([^/]+)\/status$/.exec(url.pathname);
    if (req.method === "GET" && status) {
      const applicant = this.applicants.get(status[1]);
      if (!applicant) return fail(404, "Applicant not found");
      return send(200, {
        levelName: applicant.levelName,
        createDate: applicant.createdAt,
        reviewStatus: applicant.reviewStatus,
        ...(applicant.reviewDate ? { reviewDate: applicant.reviewDate } : {}),
        ...(applicant.reviewResult ? { reviewResult: applicant.reviewResult } : {}),
      });
    }
    fail(404, `no such resource: ${req.method} ${url.pathname}`);
  }

  /** Recomputes X-App-Access-Sig over ts + METHOD + path-with-query + body, as Sumsub does. */
  private authentic(req: http.IncomingMessage, path: string, body: string): boolean {
    const token = req.headers[SumsubHeaders.appToken.toLowerCase()];
    const ts = String(req.headers[SumsubHeaders.timestamp.toLowerCase()] ?? "");
    const sig = String(req.headers[SumsubHeaders.signature.toLowerCase()] ?? "");
    if (token !== this.appToken || !/^\d+$/.test(ts) || !/^[0-9a-f]{64}$/.test(sig)) return false;
    if (Math.abs(Math.floor(Date.now() / 1000) - Number(ts)) > TIMESTAMP_TOLERANCE_SECONDS) return false;
    const expected = Buffer.from(appAccessSignature(this.secretKey, ts, req.method ?? "", path, body), "hex");
    return timingSafeEqual(expected, Buffer.from(sig, "hex"));
  }

  private present(applicant: FakeApplicant): Record<string, unknown> {
    return {
      id: applicant.id,
      createdAt: applicant.createdAt,
      key: "FAKEKEY",
      clientId: "humanops",
      inspectionId: randomBytes(12).toString("hex"),
      externalUserId: applicant.externalUserId,
      levelName: applicant.levelName,
      type: "individual",
      review: { reviewStatus: applicant.reviewStatus, ...(applicant.reviewResult ? { reviewResult: applicant.reviewResult } : {}) },
    };
  }
}
