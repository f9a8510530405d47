import { raw } from "@mikro-orm/core";
import type { Em } from "../db/orm";
import { LimitExceededError } from "../common/errors";
import { Mode } from "../common/mode";
import { formatUsd } from "../common/money";
import { Task } from "../tasks/task.entity";
import { TaskTip } from "../tasks/task-tip.entity";
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

/**
 * Spend caps on live money (test money is free). Checked inside the posting
 * transaction after the agent's row is locked, so racing posts cannot
 * together exceed the daily cap. A task's spend is its reward + fee; every
 * live task posted in the last 24 hours counts, whatever became of it.
 */
export class SpendCaps {
  constructor(private readonly config: SpendCapsConfig) {}

  async check(em: Em, agent: Agent, mode: Mode, totalUnits: bigint): Promise<void> {
    if (mode !== Mode.LIVE) return;
    const isNew = agent.createdAt.getTime() > Date.now() - this.config.newAccountDays * DAY_MS;
    const perTask = isNew ? this.config.newAccountPerTaskUnits : this.config.perTaskUnits;
    const perDay = isNew ? this.config.newAccountPerDayUnits : this.config.perDayUnits;
    const which = isNew ? ` for accounts younger than ${this.config.newAccountDays} days` : "";
    if (totalUnits > perTask) {
      throw new LimitExceededError(`this task costs ${formatUsd(totalUnits)} USDC (reward + fee), over the per-task spend cap of ${formatUsd(perTask)} USDC${which}`, "rewardUsd");
    }
    const spent = await this.spentToday(em, agent.id);
    if (spent + totalUnits > perDay) {
      throw new LimitExceededError(
        `this task costs ${formatUsd(totalUnits)} USDC and ${formatUsd(spent)} USDC was committed in the last 24 hours: over the daily spend cap of ${formatUsd(perDay)} USDC${which}`,
        "rewardUsd",
      );
    }
  }

  private async spentToday(em: Em, agentId: string): Promise<bigint> {
    const row = await em
      .createQueryBuilder(Task)
      .select(raw("coalesce(sum(reward_units + fee_units), 0) as spent"))
      .where({ agent: agentId, mode: Mode.LIVE, createdAt: { $gt: new Date(Date.now() - DAY_MS) } })
      .execute<{ spent: string | number }>("get");
    return BigInt(row.spent ?? 0);
  }

  /**
   * More money on something already posted: a raised reward (`itemTotal` is the task's new reward + fee,
   * held to the per-task cap) or a tip (`itemTotal` is the tip). The daily cap counts `extra` on top of the
   * last 24 hours' live tasks and tips.
   */
  async checkExtra(em: Em, agent: Agent, mode: Mode, extra: bigint, itemTotal: bigint, field: string): Promise<void> {
    if (mode !== Mode.LIVE) return;
    const isNew = agent.createdAt.getTime() > Date.now() - this.config.newAccountDays * DAY_MS;
    const perTask = isNew ? this.config.newAccountPerTaskUnits : this.config.perTaskUnits;
    const perDay = isNew ? this.config.newAccountPerDayUnits : this.config.perDayUnits;
    const which = isNew ? ` for accounts younger than ${this.config.newAccountDays} days` : "";
    if (itemTotal > perTask) {
      throw new LimitExceededError(`this comes to ${formatUsd(itemTotal)} USDC, over the per-task spend cap of ${formatUsd(perTask)} USDC${which}`, field);
    }
    const spent = (await this.spentToday(em, agent.id)) + (await this.tippedToday(em, agent.id));
    if (spent + extra > perDay) {
      throw new LimitExceededError(
        `this adds ${formatUsd(extra)} USDC and ${formatUsd(spent)} USDC was committed in the last 24 hours: over the daily spend cap of ${formatUsd(perDay)} USDC${which}`,
        field,
      );
    }
  }

  private async tippedToday(em: Em, agentId: string): Promise<bigint> {
    const row = await em
      .createQueryBuilder(TaskTip, "tip")
      .select(raw("coalesce(sum(tip.amount), 0) as tipped"))
      .where({ mode: Mode.LIVE, createdAt: { $gt: new Date(Date.now() - DAY_MS) }, task: { agent: agentId } })
      .execute<{ tipped: string | number }>("get");
    return BigInt(row.tipped ?? 0);
  }
}
