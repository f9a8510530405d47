import type { Config } from "./config";
import { ApiKeyService } from "./agents/api-key.service";
import { AgentService } from "./agents/agent.service";
import { OperatorService } from "./operators/operator.service";
import { LedgerService } from "./ledger/ledger.service";
import { GuardianService } from "./guardian/guardian.service";
import { PhotoDecoder, type PhotoWork } from "./photos/photo.decoder";
import { DecoderProcess } from "./photos/photo.process";
import { PhotoService } from "./photos/photo.service";
import { PhotoLinks } from "./photos/photo.links";
import { createPhotoStore } from "./photos/photo-store.factory";
import { AnthropicVisionClient } from "./guardian/vision.client";
import { TaskService } from "./tasks/task.service";
import { ProofService } from "./proofs/proof.service";
import { WebhookService, type CommitSignals } from "./webhooks/webhook.service";
import { SecretBox } from "./webhooks/webhook.secrets";
import { LiveFeed } from "./events/live-feed";
import type { Chains } from "./chain/chains";
import type { Logger } from "./common/logger";
import { systemClock, type Clock } from "./common/clock";
import { EscrowService } from "./escrow/escrow.service";
import { DepositService } from "./deposits/deposit.service";
import { WalletService } from "./deposits/wallet.service";
import { KycService } from "./kyc/kyc.service";
import { SessionService } from "./sessions/session.service";
import { MessageService } from "./messages/message.service";
import { ReputationService } from "./reputation/reputation.service";
import { AdminService } from "./admin/admin.service";
import { DisputeService } from "./disputes/dispute.service";
import { X402Payments } from "./x402/x402.service";
import { TaskChangeService } from "./tasks/task.change";

/** The domain services, wired once per process and shared by every transport. */
export interface Services {
  config: Config;
  keys: ApiKeyService;
  agents: AgentService;
  operators: OperatorService;
  ledger: LedgerService;
  guardian: GuardianService;
  tasks: TaskService;
  proofs: ProofService;
  /** Proof photos' bytes in the configured store (database, directory or S3). */
  photos: PhotoService;
  /** Decodes photos for uploads and the Guardian; close() stops its child process, when it has one. */
  decoder: PhotoWork & { close?(): Promise<void> };
  webhooks: WebhookService;
  /** This process's fan-out of committed task events to its WebSocket subscribers. */
  live: LiveFeed;
  /** Seals webhook signing secrets at rest. */
  secrets: SecretBox;
  /** The chains each mode settles on. */
  chains: Chains;
  /** Tasks' escrows on chain: the outbox rows that fund, release and refund them. */
  escrow: EscrowService;
  deposits: DepositService;
  wallets: WalletService;
  /** Operator identity verification with Sumsub (live mode). */
  kyc: KycService;
  /** The web app's browser sessions: API keys exchanged for cookies. */
  sessions: SessionService;
  /** Per-task message threads between the agent and the operator holding the task. */
  messages: MessageService;
  /** Ratings both ways after a task ends. */
  reputation: ReputationService;
  /** Platform administrators (dispute decisions) and their audit log. */
  admins: AdminService;
  disputes: DisputeService;
  /** Tasks paid from agents' own wallets over x402. */
  payments: X402Payments;
  changes: TaskChangeService;
}

/** The Guardian's vision model, when an API key is configured (otherwise the Guardian scores offline only). */
function visionModel(config: Config): AnthropicVisionClient | undefined {
  const vision = config.guardian.vision;
  return vision && new AnthropicVisionClient({ apiKey: vision.apiKey, baseUrl: vision.url, model: vision.model, timeoutMs: vision.timeoutMs, maxRetries: vision.maxRetries });
}

export function createServices(config: Config, signals: CommitSignals, chains: Chains, log: Logger, clock: Clock = systemClock): Services {
  const keys = new ApiKeyService(config.apiKeyPepper, config.apiKeyCacheMs);
  const ledger = new LedgerService(clock);
  const admins = new AdminService(keys);
  const secrets = new SecretBox(config.apiKeyPepper);
  const webhooks = new WebhookService(config, secrets, signals, clock);
  const escrow = new EscrowService(chains, config.chain.gracePeriodSeconds, config.chain.fundingWaitMs);
  ledger.paybacks = escrow;
  const payments = new X402Payments(chains, config.chain.gracePeriodSeconds, log);
  const tasks = new TaskService(config, ledger, escrow, webhooks, clock, payments);
  // One decoder for uploads and the Guardian: its concurrency bounds the memory all decoding takes.
  const decoder = config.guardian.decodeProcess
    ? new DecoderProcess(config.guardian.maxMegapixels, config.guardian.decodeThreads)
    : new PhotoDecoder(config.guardian.maxMegapixels, config.guardian.decodeThreads);
  const photos: PhotoService = new PhotoService(createPhotoStore(config.photos), decoder, new PhotoLinks(config.apiKeyPepper, config.photos.urlTtlSeconds, config.photos.publicUrl));
  const proofs = new ProofService(config, tasks, photos);
  return {
    config,
    keys,
    ledger,
    agents: new AgentService(config, keys, ledger, escrow),
    operators: new OperatorService(keys, ledger),
    guardian: new GuardianService(config.guardian, decoder, visionModel(config)),
    tasks,
    proofs,
    photos,
    decoder,
    webhooks,
    live: new LiveFeed(config.live.maxQueuedEvents),
    secrets,
    chains,
    escrow,
    deposits: new DepositService(chains, ledger),
    wallets: new WalletService(keys),
    kyc: new KycService(config.kyc, log),
    sessions: new SessionService(config.apiKeyPepper, config.sessions, keys, admins, log, clock),
    messages: new MessageService(tasks, proofs, photos, clock),
    reputation: new ReputationService(clock),
    admins,
    disputes: new DisputeService(),
    payments,
    changes: new TaskChangeService(config, tasks, ledger, escrow, clock),
  };
}
