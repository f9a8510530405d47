import { raw } from "@mikro-orm/core";
import type { Em } from "../db/orm";
import { LimitExceededError } from "../common/errors";
import { systemClock, type Clock } from "../common/clock";
import { Mode } from "../common/mode";
import { formatUsd } from "../common/money";
import { Accounts } from "../ledger/ledger.service";
import { LedgerEntry, LedgerKind } from "../ledger/ledger-entry.entity";
import type { Agent } from "./agent.entity";

/** How much real money an agent may commit: per task and per rolling 24 hours, lower while the account is new. */
export interface SpendCapsConfig {
  perTaskUnits: bigint;
  perDayUnits: bigint;
  /** Accounts younger than this many days get the new-account caps. */
  newAccountDays: number;
  newAccountPerTaskUnits: bigint;
  newAccountPerDayUnits: bigint;
}

const DAY_MS = 86_400_000;

/** The ledger postings that commit an agent's money: into a task's escrow (posting, raising its reward) and tips to its operator. */
const SPENDING = [LedgerKind.ESCROW_FUND, LedgerKind.TIP];

/**
 * Spend caps on live money (test money is free). Checked inside the posting
 * (or raising, or tipping) transaction after the agent's row is locked, so
 * racing commands cannot together exceed the daily cap, and before an x402
 * payment is settled. Spending is read from the ledger, when the money was
 * committed: a task's escrow funding at posting (from the balance or paid
 * with x402), each reward raise (with its fee) on whatever day the task was
 * posted, and each tip. What comes back later (a refund, a change the chain
 * could not take) does not make room again: the cap bounds what an agent
 * (or a leaked key) can commit in a day, whatever became of it.
 */
export class SpendCaps {
  constructor(
    private readonly config: SpendCapsConfig,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Posting a task that costs `totalUnits` (reward + fee). */
  async check(em: Em, agent: Agent, mode: Mode, totalUnits: bigint): Promise<void> {
    await this.hold(em, agent, mode, totalUnits, totalUnits, "rewardUsd", {
      item: `this task costs ${formatUsd(totalUnits)} USDC (reward + fee)`,
      extra: `this task costs ${formatUsd(totalUnits)} USDC`,
    });
  }

  /**
   * More money on something already posted: a raised reward (`itemTotal` is the task's new reward + fee,
   * held to the per-task cap) or a tip (`itemTotal` is the tip). The daily cap counts `extra`.
   */
  async checkExtra(em: Em, agent: Agent, mode: Mode, extra: bigint, itemTotal: bigint, field: string): Promise<void> {
    await this.hold(em, agent, mode, extra, itemTotal, field, { item: `this comes to ${formatUsd(itemTotal)} USDC`, extra: `this adds ${formatUsd(extra)} USDC` });
  }

  /** Money committed by the agent in live mode in the 24 hours up to now (ledger postings of SPENDING kinds). */
  async committedToday(em: Em, agentId: string): Promise<bigint> {
    const row = await em
      .createQueryBuilder(LedgerEntry, "e")
      .select(raw("coalesce(sum(e.amount), 0) as spent"))
      .where({
        mode: Mode.LIVE,
        kind: { $in: SPENDING },
        createdAt: { $gt: new Date(this.clock.now() - DAY_MS) },
        // Postings from the balance are the agent's by account; an x402 payment's by its task.
        $or: [{ fromAccount: Accounts.agent(agentId) }, { fromAccount: Accounts.x402, task: { agent: agentId } }],
      })
      .execute<{ spent: string | number | null }>("get");
    return BigInt(row.spent ?? 0);
  }

  private async hold(em: Em, agent: Agent, mode: Mode, extra: bigint, itemTotal: bigint, field: string, says: { item: string; extra: string }): Promise<void> {
    if (mode !== Mode.LIVE) return;
    const isNew = agent.createdAt.getTime() > this.clock.now() - this.config.newAccountDays * DAY_MS;
    const perTask = isNew ? this.config.newAccountPerTaskUnits : this.config.perTaskUnits;
    const perDay = isNew ? this.config.newAccountPerDayUnits : this.config.perDayUnits;
    const which = isNew ? ` for accounts younger than ${this.config.newAccountDays} days` : "";
    if (itemTotal > perTask) {
      throw new LimitExceededError(`${says.item}, over the per-task spend cap of ${formatUsd(perTask)} USDC${which}`, field);
    }
    const spent = await this.committedToday(em, agent.id);
    if (spent + extra > perDay) {
      throw new LimitExceededError(`${says.extra} and ${formatUsd(spent)} USDC was committed in the last 24 hours: over the daily spend cap of ${formatUsd(perDay)} USDC${which}`, field);
    }
  }
}
