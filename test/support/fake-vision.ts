import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for the Anthropic Messages API, for tests only: a real
 * HTTP server on 127.0.0.1 that speaks the vendor's protocol. POST
 * /v1/messages with the key (`x-api-key`, or `Authorization: Bearer` as the
 * official SDK sends it) and an `anthropic-version` header (401
 * authentication_error / 400 invalid_request_error otherwise, in the API's
 * `{type:"error", error:{type, message}}` shape, with a `request-id`
 * header); image blocks must be base64 of the media type they claim; a
 * forced `tool_choice` must name a defined tool. It answers a `tool_use`
 * block of that tool with `stop_reason: "tool_use"`, or a scripted failure.
 *
 * It cannot read pixels, so what it "sees" of a capture code is told to it:
 * a photo shows a code when the test registered its bytes (`showCode`, by
 * SHA-256 of the image block as sent), or when the image carries the marker
 * the mock operator's camera writes in EXIF ImageDescription ("Shows capture
 * code HX-4821 on paper", server/testmode/mock-photo.ts). The code looked
 * for is the one the request's instructions name; when the tool's schema
 * asks for `capture_code`, the answer has it.
 */
export type FakeVisionReply =
  /** A score_proof call: every requirement of the request, met unless `met` says otherwise; `codeVisible` overrides what the fake sees of the capture code. */
  | { score: number; met?: boolean; summary?: string; codeVisible?: boolean }
  /** 529 overloaded_error, 500 api_error, 429 rate_limit_error. */
  | { error: "overloaded" | "server" | "rate_limited" }
  /** Never answers: the client's timeout must end the request. */
  | { hang: true }
  /** A score_proof input outside its schema. */
  | { malformed: true };

export interface ReceivedVisionRequest {
  body: any;
  /** Media type and decoded bytes of each image block, in order. */
  images: Array<{ mediaType: string; bytes: Buffer }>;
  /** Every text block, joined. */
  text: string;
  /** The JSON inside <untrusted_proof_data>, parsed. */
  data: any;
  /** The capture code the instructions (outside the untrusted block) ask the model to look for. */
  captureCode?: string;
  /** Per image block, the capture code it shows (see FakeVision.showCode), if any. */
  codesShown: Array<string | undefined>;
}

const CODE_MARKER = /Shows capture code ([A-Z]{2}-\d{4})/;

const MEDIA_SIGNATURES: Record<string, (b: Buffer) => boolean> = {
  "image/png": (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  "image/jpeg": (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  "image/gif": (b) => b.toString("latin1", 0, 4) === "GIF8",
  "image/webp": (b) => b.toString("latin1", 8, 12) === "WEBP",
};

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export class FakeVision {
  readonly apiKey = `sk-ant-api03-fake-${randomBytes(16).toString("hex")}`;
  readonly requests: ReceivedVisionRequest[] = [];
  /** While true the key is refused, as a key revoked in the Console is. */
  revoked = false;
  /** How to answer a valid request (default: score 95). */
  reply: (request: ReceivedVisionRequest) => FakeVisionReply = () => ({ score: 95 });
  private requestCount = 0;
  private readonly codes = new Map<string, string>();

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<FakeVision> {
    const server = http.createServer();
    const fake = new FakeVision(server);
    server.on("request", (req, res) => void fake.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  /** From now on, an image block with exactly these bytes shows `code` legibly. */
  showCode(image: Buffer, code: string): void {
    this.codes.set(createHash("sha256").update(image).digest("hex"), code);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    res.setHeader("request-id", `req_fake_${++this.requestCount}`);
    try {
      if (req.method !== "POST" || req.url !== "/v1/messages") throw new ApiError(404, "not_found_error", "Not found");
      // The key comes as x-api-key (the HTTP docs) or as a bearer token (what the official SDK 1.x sends).
      const key = req.headers["x-api-key"] ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      if (key !== this.apiKey || this.revoked) throw new ApiError(401, "authentication_error", "invalid x-api-key");
      if (!req.headers["anthropic-version"]) throw new ApiError(400, "invalid_request_error", "anthropic-version: header is required");
      if (!String(req.headers["content-type"]).startsWith("application/json")) throw new ApiError(400, "invalid_request_error", "content-type: must be application/json");
      const request = this.parse(Buffer.concat(chunks).toString("utf8"));
      this.requests.push(request);
      const reply = this.reply(request);
      if ("hang" in reply) return;
      if ("error" in reply) {
        const [status, type, message] = { overloaded: [529, "overloaded_error", "Overloaded"], server: [500, "api_error", "Internal server error"], rate_limited: [429, "rate_limit_error", "Number of requests has exceeded your rate limit"] }[reply.error] as [number, string, string];
        throw new ApiError(status, type, message);
      }
      const input = "malformed" in reply ? { score: "high", requirements: "all of them" } : this.scoreInput(request, reply);
      this.send(res, 200, {
        id: `msg_fake_${this.requestCount}`,
        type: "message",
        role: "assistant",
        model: request.body.model,
        content: [{ type: "tool_use", id: `toolu_fake_${this.requestCount}`, name: request.body.tool_choice.name, input }],
        stop_reason: "tool_use",
        stop_sequence: null,
        usage: { input_tokens: 1_000 + 1_600 * request.images.length, output_tokens: 120 },
      });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      this.send(res, err.status, { type: "error", error: { type: err.type, message: err.message } });
    }
  }

  /** Checks the body as the real API would, and pulls out what tests assert on. */
  private parse(raw: string): ReceivedVisionRequest {
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new ApiError(400, "invalid_request_error", "The request body is not valid JSON");
    }
    const invalid = (message: string) => new ApiError(400, "invalid_request_error", message);
    if (typeof body?.model !== "string" || !body.model) throw invalid("model: Field required");
    if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) throw invalid("max_tokens: Field required");
    if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid("messages: at least one message is required");
    const tools: any[] = body.tools ?? [];
    for (const tool of tools) if (typeof tool?.name !== "string" || tool?.input_schema?.type !== "object") throw invalid("tools: each tool needs a name and an input_schema of type object");
    if (body.tool_choice) {
      if (body.tool_choice.type !== "tool" || !tools.some((tool) => tool.name === body.tool_choice.name)) throw invalid("tool_choice: must name one of the tools");
    }
    const images: ReceivedVisionRequest["images"] = [];
    const texts: string[] = [];
    for (const [m, message] of body.messages.entries()) {
      if (message.role !== "user" && message.role !== "assistant") throw invalid(`messages.${m}.role: must be user or assistant`);
      const blocks = typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
      for (const [b, block] of blocks.entries()) {
        if (block.type === "text") texts.push(String(block.text));
        else if (block.type === "image") {
          const { type, media_type: mediaType, data } = block.source ?? {};
          if (type !== "base64" || !(mediaType in MEDIA_SIGNATURES) || typeof data !== "string") throw invalid(`messages.${m}.content.${b}.image.source: must be base64 of image/jpeg, image/png, image/gif or image/webp`);
          const bytes = Buffer.from(data, "base64");
          if (!MEDIA_SIGNATURES[mediaType](bytes)) throw invalid(`messages.${m}.content.${b}.image.source.base64: The image was specified using the ${mediaType} media type, but the image appears to be a different type`);
          images.push({ mediaType, bytes });
        } else throw invalid(`messages.${m}.content.${b}.type: unexpected block type ${block.type}`);
      }
    }
    const text = texts.join("\n");
    const match = /<untrusted_proof_data>\n([\s\S]*?)\n<\/untrusted_proof_data>/.exec(text);
    const outside = match ? text.replace(match[0], "") : text;
    const captureCode = /capture code "([^"]+)"/.exec(outside)?.[1];
    const codesShown = images.map(({ bytes }) => this.codes.get(createHash("sha256").update(bytes).digest("hex")) ?? CODE_MARKER.exec(bytes.toString("latin1"))?.[1]);
    return { body, images, text, data: match ? JSON.parse(match[1]) : undefined, captureCode, codesShown };
  }

  private scoreInput(request: ReceivedVisionRequest, reply: { score: number; met?: boolean; summary?: string; codeVisible?: boolean }) {
    const requirements: string[] = request.data?.task?.proof_requirements ?? [];
    const input: Record<string, unknown> = {
      requirements: requirements.map((requirement) => ({ requirement, met: reply.met ?? true, reason: reply.met === false ? `not visible in the ${request.images.length} photo(s)` : "clearly visible" })),
      score: reply.score,
      summary: reply.summary ?? `The fake model scored ${request.images.length} photo(s) at ${reply.score}.`,
    };
    const tool = (request.body.tools as any[]).find((t) => t.name === request.body.tool_choice?.name);
    if (tool?.input_schema?.properties?.capture_code) {
      const index = request.codesShown.findIndex((code) => code !== undefined && code === request.captureCode);
      const visible = reply.codeVisible ?? index >= 0;
      input.capture_code = visible
        ? { visible: true, photo: index >= 0 ? index + 1 : 1, reason: `read "${request.captureCode}" on a sheet of paper` }
        : { visible: false, photo: null, reason: request.codesShown.some(Boolean) ? `a code reads "${request.codesShown.find(Boolean)}", not "${request.captureCode}"` : "no code is visible in any photo" };
    }
    return input;
  }

  private send(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }
}
