import { UniqueConstraintViolationException } from "@mikro-orm/core";
import type { Em } from "../db/orm";
import type { Config } from "../config";
import { Mode } from "../common/mode";
import { enqueue, type JobWorker } from "../jobs/job.queue";
import { Operator, KycStatus } from "../operators/operator.entity";
import { generatePhoto } from "../photos/photo.samples";
import { expectedPhotoCount } from "../guardian/guardian.service";
import type { PhotoService } from "../photos/photo.service";
import { fraudSource } from "./fraud.source";
import { mockPhoto, recompressed } from "./mock-photo";
import type { ProofService, PhotoUpload, PreparedPhotos } from "../proofs/proof.service";
import { TestModeJobs, type OperatorPrincipal, type TaskService } from "../tasks/task.service";
import type { Task } from "../tasks/task.entity";
import { TaskStatus, TestScenario } from "../tasks/task.enums";

export const MOCK_OPERATOR_EMAIL = "mock-operator@humanops.test";
/** Hardhat's well-known account #9: a valid address that holds nothing of value. */
export const MOCK_OPERATOR_PAYOUT = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720";

/** The mock operator's proof for one attempt of a task, made before its job's transaction. */
interface MockProof {
  attempts: number;
  notes: string;
  photos: PreparedPhotos;
}

/** The built-in operator of test mode, created once per database (replicas starting together agree on one). */
export async function ensureMockOperator(em: Em): Promise<Operator> {
  const existing = await em.findOne(Operator, { email: MOCK_OPERATOR_EMAIL });
  if (existing) return existing;
  const operator = new Operator("HumanOps test operator", MOCK_OPERATOR_EMAIL, MOCK_OPERATOR_PAYOUT);
  operator.kycStatus = KycStatus.APPROVED;
  operator.isMock = true;
  try {
    await em.fork().persist(operator).flush();
    return operator;
  } catch (err) {
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
    return em.findOneOrFail(Operator, { email: MOCK_OPERATOR_EMAIL });
  }
}

/** A PNG signature followed by noise: accepted as an upload, refused by the decoder. */
function corruptPhoto(task: Task, position: number): PhotoUpload {
  return { data: Buffer.concat([generatePhoto(position + 1, 8, 8).subarray(0, 16), Buffer.from(`corrupt-${task.id}-${task.attempts}-${position}`)]), contentType: "image/png" };
}

/**
 * Proof shaped to walk the task's scenario. APPROVE: real photos taken at the
 * task's point just now (every check passes); REVIEW: the same, too small to
 * count in full; REJECT: files that do not decode; FRAUD: a recompressed copy
 * of a photo of the agent's earlier test task, which the reuse check fails.
 */
export async function scenarioProof(em: Em, photos: PhotoService, task: Task): Promise<{ photos: PhotoUpload[]; notes: string }> {
  const count = expectedPhotoCount(task.proofRequirements);
  const notes = `Test-mode proof for "${task.title}" (scenario ${task.testScenario}).`;
  if (task.testScenario === TestScenario.REJECT) return { photos: Array.from({ length: count }, (_, i) => corruptPhoto(task, i)), notes };
  if (task.testScenario === TestScenario.FRAUD) {
    const source = await fraudSource(em, task.agent.id, task.id);
    const original = source && (await photos.read(em, source, "original"));
    if (!original) throw new Error(`test task ${task.id}: FRAUD found no earlier test photo of the agent to reuse`);
    return { photos: [{ data: await recompressed(original.data), contentType: "image/jpeg" }], notes };
  }
  const [width, height] = task.testScenario === TestScenario.REVIEW ? [160, 120] : [1280, 960];
  const takenAt = new Date();
  const shots = Array.from({ length: count }, (_, i) =>
    // The capture code is held up in the first photo, as the operator's requirements say.
    mockPhoto({ title: task.title, seed: `${task.id}:${task.attempts}:${i}`, lat: task.lat, lng: task.lng, takenAt, width, height, captureCode: i === 0 ? (task.captureCode ?? undefined) : undefined }),
  );
  return { photos: (await Promise.all(shots)).map((data) => ({ data, contentType: "image/jpeg" })), notes };
}

/**
 * Test mode: a mock operator accepts each test task and submits proof shaped
 * by its scenario, through the same services a real operator uses, and
 * submits again after every rejection (the Guardian's or the agent's) while
 * attempts remain: TaskService queues each step as a durable job, so a
 * restart picks up where it left off.
 */
export function registerTestMode(worker: JobWorker, config: Config, tasks: TaskService, proofs: ProofService, photos: PhotoService, mockOperatorId: string): void {
  const principal: OperatorPrincipal = { kind: "operator", operatorId: mockOperatorId, mode: Mode.TEST, keyId: "test-mode" };
  const nextStep = () => Date.now() + config.testMode.stepDelayMs;

  worker.register(TestModeJobs.accept, async ({ em }, payload) => {
    const task = await tasks.find(em, String(payload.taskId));
    if (task.status !== TaskStatus.POSTED) return;
    await tasks.accept(em, principal, task.id);
    enqueue(em, TestModeJobs.submit, { taskId: task.id }, { runAt: nextStep() });
  });

  const submits = (task: Task) => task.operator?.id === mockOperatorId && (task.status === TaskStatus.ACCEPTED || task.status === TaskStatus.REJECTED);
  // The photos are made and decoded before the job's transaction (it would hold SQLite's one connection for a second or more meanwhile).
  worker.register<MockProof | undefined, typeof TestModeJobs.submit>(
    TestModeJobs.submit,
    async ({ em, prepared }, payload) => {
      const task = await tasks.find(em, String(payload.taskId));
      if (!submits(task)) return;
      // Made for this very attempt; a task that moved on since (or was not due then) gets its proof made here.
      const proof = prepared?.attempts === task.attempts ? prepared : await scenarioProof(em, photos, task);
      await proofs.submit(em, principal, task.id, proof.photos, proof.notes);
    },
    async (em, payload) => {
      const task = await tasks.find(em, String(payload.taskId));
      if (!submits(task)) return undefined;
      const proof = await scenarioProof(em, photos, task);
      return { attempts: task.attempts, notes: proof.notes, photos: await proofs.preparePhotos(proof.photos) };
    },
  );
}
