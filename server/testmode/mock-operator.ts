import { UniqueConstraintViolationException } from "@mikro-orm/core";
import type { Em } from "../db/orm";
import type { Config } from "../config";
import { Mode } from "../common/mode";
import { enqueue, type JobWorker } from "../jobs/job.queue";
import { Operator, KycStatus } from "../operators/operator.entity";
import { generatePhoto } from "../photos/photo.samples";
import { expectedPhotoCount } from "../guardian/guardian.service";
import type { ProofService, PhotoUpload } from "../proofs/proof.service";
import { TestModeJobs, type OperatorPrincipal, type TaskService } from "../tasks/task.service";
import type { Task } from "../tasks/task.entity";
import { TaskStatus, TestScenario } from "../tasks/task.enums";

export const MOCK_OPERATOR_EMAIL = "mock-operator@humanops.test";
/** Hardhat's well-known account #9: a valid address that holds nothing of value. */
export const MOCK_OPERATOR_PAYOUT = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720";

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

/** The mock operator's photos, made once per position and size: the Guardian only requires the photos of one proof to differ. */
const mockPhotos = new Map<string, Buffer>();

function mockPhoto(position: number, width: number, height: number): Buffer {
  const key = `${position}:${width}x${height}`;
  let photo = mockPhotos.get(key);
  if (!photo) mockPhotos.set(key, (photo = generatePhoto(position + 1, width, height)));
  return photo;
}

/** Proof shaped to walk the task's scenario: good, low-resolution (review) or corrupt (reject). */
export function scenarioProof(task: Task): { photos: PhotoUpload[]; notes: string } {
  const count = expectedPhotoCount(task.proofRequirements);
  const photos = Array.from({ length: count }, (_, i): PhotoUpload => {
    if (task.testScenario === TestScenario.REJECT) {
      // A PNG signature followed by noise: accepted as an upload, refused by the decoder.
      return { data: Buffer.concat([mockPhoto(i, 8, 8).subarray(0, 16), Buffer.from(`corrupt-${task.id}-${task.attempts}-${i}`)]), contentType: "image/png" };
    }
    const [width, height] = task.testScenario === TestScenario.REVIEW ? [160, 120] : [640, 480];
    return { data: mockPhoto(i, width, height), contentType: "image/png" };
  });
  return { photos, notes: `Test-mode proof for "${task.title}" (scenario ${task.testScenario}).` };
}

/**
 * Test mode: a mock operator accepts each test task and submits proof shaped
 * by its scenario, through the same services a real operator uses, and
 * submits again after every rejection (the Guardian's or the agent's) while
 * attempts remain: TaskService queues each step as a durable job, so a
 * restart picks up where it left off.
 */
export function registerTestMode(worker: JobWorker, config: Config, tasks: TaskService, proofs: ProofService, mockOperatorId: string): void {
  const principal: OperatorPrincipal = { kind: "operator", operatorId: mockOperatorId, mode: Mode.TEST, keyId: "test-mode" };
  const nextStep = () => Date.now() + config.testMode.stepDelayMs;

  worker.register(TestModeJobs.accept, async ({ em }, payload) => {
    const task = await tasks.find(em, String(payload.taskId));
    if (task.status !== TaskStatus.POSTED) return;
    await tasks.accept(em, principal, task.id);
    enqueue(em, TestModeJobs.submit, { taskId: task.id }, { runAt: nextStep() });
  });

  worker.register(TestModeJobs.submit, async ({ em }, payload) => {
    const task = await tasks.find(em, String(payload.taskId));
    if (task.operator?.id !== mockOperatorId) return;
    if (task.status !== TaskStatus.ACCEPTED && task.status !== TaskStatus.REJECTED) return;
    const { photos, notes } = scenarioProof(task);
    await proofs.submit(em, principal, task.id, photos, notes);
  });
}
