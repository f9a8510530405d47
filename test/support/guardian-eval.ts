import { randomUUID } from "node:crypto";
import sharp from "sharp";
import { mockPhoto } from "../../server/testmode/mock-photo";
import type { FakeVision } from "./fake-vision";

/**
 * The Guardian's evaluation set (issue 13 §6): labelled proofs generated
 * here, no downloads — phone-like JPEG scenes drawn with sharp, EXIF from
 * sharp's withExif — each submitted through the real API for a task of its
 * own and scored by the real Guardian job (database lookups for reuse
 * included), with a vision model answering through the local fake of the
 * Messages API (it "sees" a capture code where the generator registered one).
 * Shared by test/guardian/evaluation.test.ts and `npm run bench -- guardian`.
 */
export type Outcome = "APPROVED" | "MANUAL_REVIEW" | "REJECTED";

export interface Category {
  label: string;
  /** What the Guardian must decide for every proof of the category. */
  expected: Outcome;
  /** Honest proof: approving it automatically is right. Every other category must never be approved automatically. */
  honest: boolean;
}

export const CATEGORIES: Record<string, Category> = {
  good: { label: "good", expected: "APPROVED", honest: true },
  missingGps: { label: "missing GPS", expected: "APPROVED", honest: true },
  wrongPlace: { label: "wrong place (5 km off)", expected: "REJECTED", honest: false },
  beforeAcceptance: { label: "taken before acceptance", expected: "REJECTED", honest: false },
  reusedExact: { label: "reused exactly", expected: "REJECTED", honest: false },
  reusedResized: { label: "reused, resized 50%", expected: "REJECTED", honest: false },
  reusedRecompressed: { label: "reused, recompressed q60", expected: "REJECTED", honest: false },
  reusedCropped: { label: "reused, cropped 10%", expected: "REJECTED", honest: false },
  screenshot: { label: "screenshot-like", expected: "MANUAL_REVIEW", honest: false },
  tooFew: { label: "too few photos", expected: "MANUAL_REVIEW", honest: false },
  codeMissing: { label: "capture code missing", expected: "MANUAL_REVIEW", honest: false },
};

/** Proofs per category: 66 in all. */
export const FULL_SET: Record<keyof typeof CATEGORIES, number> = {
  good: 12, missingGps: 5, wrongPlace: 6, beforeAcceptance: 6, reusedExact: 5, reusedResized: 5, reusedRecompressed: 5, reusedCropped: 6, screenshot: 5, tooFew: 5, codeMissing: 6,
};

export interface Scored {
  category: keyof typeof CATEGORIES;
  outcome: Outcome;
  score: number;
  /** The checks that did not pass, "name:OUTCOME". */
  flags: string[];
  photos: Buffer[];
}

export interface EvalTarget {
  /** The GraphQL endpoint of a running HumanOps in test mode, with the fake vision model configured. */
  graphql: string;
  fake: FakeVision;
  /** Proofs in flight at once. */
  concurrency?: number;
  /**
   * The camera photos' size; default 1280×960, a phone's. The checks look at
   * a photo's size only for screen-like dimensions (the screenshots keep a
   * screen's 1280×720 whatever this is), and the reuse hashes are taken on a
   * fixed grid, so a quick run may draw smaller ones.
   */
  photoSize?: { width: number; height: number };
}

const POINT = { lat: 30.2672, lng: -97.7431 };
const REQUIREMENTS = ["2 photos of the storefront"];

async function call(endpoint: string, query: string, variables: Record<string, unknown>, apiKey?: string): Promise<Record<string, any>> {
  const res = await fetch(endpoint, { method: "POST", headers: { "content-type": "application/json", ...(apiKey ? { "x-api-key": apiKey } : {}) }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

const exifTime = (at: Date) => at.toISOString().slice(0, 19).replace("T", " ").replace(/-/g, ":");

/** The same scene with the camera's make, model and time but no GPS (location services off). */
const withoutGps = (photo: Buffer, takenAt: Date) =>
  sharp(photo).jpeg({ quality: 88 }).withExif({ IFD0: { Make: "Google", Model: "Pixel 8" }, IFD2: { DateTimeOriginal: exifTime(takenAt), OffsetTimeOriginal: "+00:00" } }).toBuffer();

const DISGUISE = {
  reusedExact: async (photo: Buffer) => photo,
  reusedResized: async (photo: Buffer) => sharp(photo).resize(Math.round((await sharp(photo).metadata()).width! / 2)).jpeg({ quality: 85 }).toBuffer(),
  reusedRecompressed: (photo: Buffer) => sharp(photo).jpeg({ quality: 60 }).toBuffer(),
  // 10% off the width and height, from a corner, the centre or one side, as a cheat trims a border.
  reusedCropped: async (photo: Buffer, i: number) => {
    const [left, top, width, height] = ([[0.1, 0.1, 0.9, 0.9], [0.05, 0.05, 0.9, 0.9], [0, 0, 0.9, 1], [0, 0.1, 1, 0.9], [0, 0, 0.9, 0.9], [0.1, 0, 0.9, 0.9]] as const)[i % 6];
    const size = await sharp(photo).metadata();
    const [w, h] = [size.width!, size.height!];
    return sharp(photo).extract({ left: Math.round(left * w), top: Math.round(top * h), width: Math.round(width * w), height: Math.round(height * h) }).jpeg({ quality: 85 }).toBuffer();
  },
};

/**
 * Runs the set: every category's proofs, each for a task of its own posted
 * by one agent and accepted by one operator (test mode, no mock operator),
 * the honest proofs first so the reused ones have earlier photos to copy.
 */
export async function runEvaluation(target: EvalTarget, counts: Partial<Record<keyof typeof CATEGORIES, number>> = FULL_SET): Promise<Scored[]> {
  const { graphql, fake } = target;
  const run = randomUUID().slice(0, 8);
  const { registerAgent } = await call(graphql, `mutation($input: RegisterAgentInput!) { registerAgent(input: $input) { apiKey } }`, { input: { name: "eval", email: `eval-${run}@agents.test` } });
  const { registerOperator } = await call(graphql, `mutation($input: RegisterOperatorInput!) { registerOperator(input: $input) { testApiKey } }`, {
    input: { name: "eval operator", email: `eval-${run}@operators.test`, payoutAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" },
  });
  const agentKey: string = registerAgent.apiKey;
  const operatorKey: string = registerOperator.testApiKey;
  const sources: Buffer[] = [];

  const one = async (category: keyof typeof CATEGORIES, i: number): Promise<Scored> => {
    const input = {
      title: `Storefront ${category} ${i}`,
      description: "Photos of the shop's facade with its sign.",
      taskType: "PHOTO",
      location: { ...POINT, address: "123 Main St, Austin, TX" },
      rewardUsd: "1",
      deadline: new Date(Date.now() + 86_400_000).toISOString(),
      proofRequirements: REQUIREMENTS,
      testScenario: "MANUAL",
    };
    const { postTask } = await call(graphql, `mutation($input: PostTaskInput!) { postTask(input: $input) { id } }`, { input }, agentKey);
    const { acceptTask } = await call(graphql, `mutation($id: ID!) { acceptTask(id: $id) { captureCode } }`, { id: postTask.id }, operatorKey);
    const code: string = acceptTask.captureCode;
    const takenAt = new Date();
    const seed = `${run}:${category}:${i}`;
    const shot = (n: number, overrides: Partial<Parameters<typeof mockPhoto>[0]> = {}) =>
      mockPhoto({ title: input.title, seed: `${seed}:${n}`, ...POINT, takenAt, captureCode: n === 0 ? code : undefined, ...target.photoSize, ...overrides });
    let photos: Buffer[];
    switch (category) {
      case "good":
      case "tooFew":
        photos = category === "good" ? [await shot(0), await shot(1)] : [await shot(0)];
        break;
      case "missingGps":
        photos = [await withoutGps(await shot(0), takenAt), await withoutGps(await shot(1), takenAt)];
        break;
      case "wrongPlace":
        photos = [await shot(0, { lat: POINT.lat + 0.045 }), await shot(1, { lat: POINT.lat + 0.045 })];
        break;
      case "beforeAcceptance": {
        const lastWeek = new Date(Date.now() - 7 * 86_400_000);
        photos = [await shot(0, { takenAt: lastWeek }), await shot(1, { takenAt: lastWeek })];
        break;
      }
      case "screenshot":
        // A screen-sized image with no camera EXIF at all, as a screenshot saves.
        photos = [await sharp(await shot(0, { width: 1280, height: 720 })).jpeg({ quality: 90 }).toBuffer(), await sharp(await shot(1, { width: 1280, height: 720 })).jpeg({ quality: 90 }).toBuffer()];
        break;
      case "codeMissing":
        photos = [await shot(0, { captureCode: undefined }), await shot(1)];
        break;
      default:
        photos = [await DISGUISE[category as keyof typeof DISGUISE](sources[i % sources.length], i), await shot(1)];
    }
    // What the fake model "sees": the code on the first photo of the proofs that show it.
    if (category !== "codeMissing") fake.showCode(photos[0], code);
    const proofInput = { photos: photos.map((data) => ({ dataBase64: data.toString("base64"), contentType: "image/jpeg" })), notes: "The shop was open." };
    await call(graphql, `mutation($id: ID!, $input: SubmitProofInput!) { submitProof(taskId: $id, input: $input) { status } }`, { id: postTask.id, input: proofInput }, operatorKey);
    for (;;) {
      const { task } = await call(graphql, `query($id: ID!) { task(id: $id) { verification { score verdict checks { name outcome } } } }`, { id: postTask.id }, agentKey);
      const v = task.verification;
      if (v) {
        const outcome = ({ APPROVE: "APPROVED", REVIEW: "MANUAL_REVIEW", REJECT: "REJECTED" } as const)[v.verdict as "APPROVE" | "REVIEW" | "REJECT"];
        const flags = [...new Set<string>(v.checks.filter((c: any) => c.outcome === "WARN" || c.outcome === "FAIL").map((c: any) => `${c.name}:${c.outcome}`))];
        if (category === "good") sources.push(photos[0]);
        return { category, outcome, score: v.score, flags, photos };
      }
      // Not much more often: every look is a GraphQL query the server answers beside the proofs in flight.
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  };

  const results: Scored[] = [];
  const runAll = async (jobs: Array<[keyof typeof CATEGORIES, number]>) => {
    let next = 0;
    const workers = Array.from({ length: target.concurrency ?? 4 }, async () => {
      while (next < jobs.length) {
        const [category, i] = jobs[next++];
        results.push(await one(category, i));
      }
    });
    await Promise.all(workers);
  };
  const jobsOf = (names: Array<keyof typeof CATEGORIES>) => names.flatMap((name) => Array.from({ length: counts[name] ?? 0 }, (_, i) => [name, i] as [keyof typeof CATEGORIES, number]));
  await runAll(jobsOf(["good"]));
  await runAll(jobsOf((Object.keys(CATEGORIES) as Array<keyof typeof CATEGORIES>).filter((name) => name !== "good")));
  return results;
}

/** Label × outcome counts, and the proofs approved automatically that should not have been. */
export function confusion(results: Scored[]): { matrix: Record<string, Record<Outcome, number>>; falseAutoApprovals: Scored[] } {
  const matrix: Record<string, Record<Outcome, number>> = {};
  for (const name of Object.keys(CATEGORIES)) matrix[name] = { APPROVED: 0, MANUAL_REVIEW: 0, REJECTED: 0 };
  for (const r of results) matrix[r.category][r.outcome]++;
  return { matrix, falseAutoApprovals: results.filter((r) => r.outcome === "APPROVED" && !CATEGORIES[r.category].honest) };
}

/** The matrix as a table, one line per label. */
export function formatConfusion(results: Scored[]): string {
  const { matrix } = confusion(results);
  const pad = (text: string | number, width: number) => String(text).padEnd(width);
  const lines = [`${pad("label", 28)}${pad("expected", 15)}${pad("APPROVED", 10)}${pad("REVIEW", 8)}${pad("REJECTED", 9)}`];
  for (const [name, row] of Object.entries(matrix)) {
    if (row.APPROVED + row.MANUAL_REVIEW + row.REJECTED === 0) continue;
    lines.push(`${pad(CATEGORIES[name].label, 28)}${pad(CATEGORIES[name].expected, 15)}${pad(row.APPROVED, 10)}${pad(row.MANUAL_REVIEW, 8)}${pad(row.REJECTED, 9)}`);
  }
  return lines.join("\n");
}
