import { Agent } from "../agents/agent.entity";
import { ApiKey } from "../agents/api-key.entity";
import { Operator } from "../operators/operator.entity";
import { Task } from "../tasks/task.entity";
import { TaskEvent } from "../tasks/task-event.entity";
import { Proof, ProofPhoto } from "../proofs/proof.entity";
import { ProofPhotoHash } from "../photos/photo-hash.entity";
import { Verification } from "../guardian/verification.entity";
import { LedgerEntry } from "../ledger/ledger-entry.entity";
import { Job } from "../jobs/job.entity";
import { IdempotencyRecord } from "../rest/idempotency.entity";
import { WebhookEndpoint } from "../webhooks/webhook-endpoint.entity";
import { WebhookAttempt, WebhookDelivery } from "../webhooks/webhook-delivery.entity";
import { EventCursor } from "./event-cursor.entity";
import { Escrow, EscrowDiscrepancy } from "../escrow/escrow.entity";
import { Deployment } from "./deployment.entity";
import { PhotoBlob } from "../photos/photo-blob.entity";
import { ChainBinding } from "../chain/chain-binding.entity";
import { ChainEvent, ChainInstance, ChainSigner, ChainTx } from "../escrow/chain-tx.entity";
import { AgentWallet, Deposit, WalletChallenge } from "../deposits/deposit.entity";
import { KycApplicant } from "../kyc/kyc-applicant.entity";
import { BrowserSession } from "../sessions/browser-session.entity";
import { TaskTip } from "../tasks/task-tip.entity";

/** Every entity, listed explicitly: no folder scanning, the same under tsc and ts-node. */
export const ENTITIES = [Agent, ApiKey, Operator, Task, TaskEvent, Proof, ProofPhoto, Verification, LedgerEntry, Job, IdempotencyRecord, WebhookEndpoint, WebhookDelivery, WebhookAttempt, EventCursor, Escrow, EscrowDiscrepancy, ChainTx, ChainSigner, ChainEvent, ChainInstance, AgentWallet, WalletChallenge, Deposit, KycApplicant, Deployment, PhotoBlob, ChainBinding, BrowserSession, ProofPhotoHash, TaskTip];
