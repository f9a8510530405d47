import { Agent } from "../agents/agent.entity";
import { ApiKey } from "../agents/api-key.entity";
import { Operator } from "../operators/operator.entity";
import { Task } from "../tasks/task.entity";
import { TaskEvent } from "../tasks/task-event.entity";
import { Proof, ProofPhoto } from "../proofs/proof.entity";
import { Verification } from "../guardian/verification.entity";
import { LedgerEntry } from "../ledger/ledger-entry.entity";
import { Job } from "../jobs/job.entity";
import { IdempotencyRecord } from "../rest/idempotency.entity";

/** Every entity, listed explicitly: no folder scanning, the same under tsc and ts-node. */
export const ENTITIES = [Agent, ApiKey, Operator, Task, TaskEvent, Proof, ProofPhoto, Verification, LedgerEntry, Job, IdempotencyRecord];
