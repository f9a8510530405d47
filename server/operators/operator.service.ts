import { UniqueConstraintViolationException } from "@mikro-orm/core";
import type { Em } from "../db/orm";
import { ConflictError } from "../common/errors";
import { Mode } from "../common/mode";
import { email, evmAddress, requiredText } from "../common/validate";
import type { ApiKeyService } from "../agents/api-key.service";
import { Accounts, type LedgerService } from "../ledger/ledger.service";
import { Operator } from "./operator.entity";

export interface OperatorRegistration {
  operator: Operator;
  /** For test tasks; needs no identity verification. Shown once. */
  testApiKey: string;
  /** For live tasks; accepting one needs approved KYC. Shown once. */
  liveApiKey: string;
}

export class OperatorService {
  constructor(
    private readonly keys: ApiKeyService,
    private readonly ledger: LedgerService,
  ) {}

  /** Registers an operator with a Base payout address. KYC starts PENDING; test mode ignores it. */
  async register(em: Em, input: { name: unknown; email: unknown; payoutAddress: unknown }): Promise<OperatorRegistration> {
    const name = requiredText(input.name, "name", 200);
    const address = email(input.email);
    const payoutAddress = evmAddress(input.payoutAddress, "payoutAddress");
    try {
      return await em.transactional(async (tx) => {
        const operator = new Operator(name, address, payoutAddress);
        tx.persist(operator);
        return {
          operator,
          testApiKey: this.keys.issue(tx, Mode.TEST, { operator }),
          liveApiKey: this.keys.issue(tx, Mode.LIVE, { operator }),
        };
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new ConflictError(`an operator with email ${address} is already registered`);
      throw err;
    }
  }

  async get(em: Em, operatorId: string): Promise<Operator> {
    return em.findOneOrFail(Operator, operatorId);
  }

  async earnings(em: Em, operatorId: string, mode: Mode): Promise<bigint> {
    return this.ledger.balance(em, mode, Accounts.operator(operatorId));
  }
}
