import { UniqueConstraintViolationException } from "@mikro-orm/core";
import type { Em } from "../db/orm";
import type { Config } from "../config";
import { ConflictError } from "../common/errors";
import { Mode } from "../common/mode";
import { email, requiredText } from "../common/validate";
import { Accounts, type LedgerService } from "../ledger/ledger.service";
import { LedgerKind } from "../ledger/ledger-entry.entity";
import { Agent } from "./agent.entity";
import type { ApiKeyService } from "./api-key.service";

export interface AgentRegistration {
  agent: Agent;
  /** Shown once; only its hash is stored. */
  apiKey: string;
}

/** Backs test money credited in the ledger with test USDC on chain, in the crediting transaction (server/escrow). */
export interface TestCreditBacking {
  backTestCredit(em: Em, agentId: string, amount: bigint): void;
}

export class AgentService {
  constructor(
    private readonly config: Config,
    private readonly keys: ApiKeyService,
    private readonly ledger: LedgerService,
    private readonly backing: TestCreditBacking,
  ) {}

  /**
   * Creates an agent with a test-mode key and a test balance, so the whole
   * lifecycle can be tried at once without money.
   */
  async register(em: Em, input: { name: unknown; email: unknown }): Promise<AgentRegistration> {
    const name = requiredText(input.name, "name", 200);
    const address = email(input.email);
    try {
      return await em.transactional(async (tx) => {
        const agent = new Agent(name, address);
        tx.persist(agent);
        const apiKey = this.keys.issue(tx, Mode.TEST, { agent });
        this.ledger.post(tx, Mode.TEST, LedgerKind.DEPOSIT, Accounts.testFaucet, Accounts.agent(agent.id), this.config.testMode.startingBalanceUnits);
        this.backing.backTestCredit(tx, agent.id, this.config.testMode.startingBalanceUnits);
        return { agent, apiKey };
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new ConflictError(`an agent with email ${address} is already registered`);
      throw err;
    }
  }

  async balance(em: Em, agentId: string, mode: Mode): Promise<bigint> {
    return this.ledger.balance(em, mode, Accounts.agent(agentId));
  }
}
