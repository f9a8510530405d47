import { BigIntType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from "@mikro-orm/core";
import { Mode } from "../common/mode";
import { Task } from "../tasks/task.entity";

export enum LedgerKind {
  DEPOSIT = "DEPOSIT",
  ESCROW_FUND = "ESCROW_FUND",
  PAYOUT = "PAYOUT",
  FEE = "FEE",
  REFUND = "REFUND",
  /** A bonus from the agent to the operator of a PAID task, paid on chain from the funding wallet. */
  TIP = "TIP",
}

/**
 * Double-entry ledger: each row moves `amount` base units from one account to
 * another, so every posting balances by construction. An account's balance is
 * what flowed in minus what flowed out. Accounts:
 *   agent:<id>        an agent's spendable balance
 *   escrow:<taskId>   money locked for one task
 *   operator:<id>     an operator's earnings
 *   platform:treasury fees
 *   platform:unattributed deposits from no linked wallet
 *   external:...      the world outside (deposits, the test faucet)
 */
@Entity({ tableName: "ledger_entries" })
@Index({ properties: ["mode", "fromAccount"] })
@Index({ properties: ["mode", "toAccount"] })
export class LedgerEntry {
  @PrimaryKey({ type: "bigint", autoincrement: true })
  id!: string;

  @Enum({ items: () => Mode })
  mode: Mode;

  @Enum({ items: () => LedgerKind })
  kind: LedgerKind;

  @Property({ type: "string", length: 80 })
  fromAccount: string;

  @Property({ type: "string", length: 80 })
  toAccount: string;

  @Property({ type: new BigIntType("bigint") })
  amount: bigint;

  @ManyToOne(() => Task, { nullable: true })
  task?: Task;

  @Property({ type: "Date" })
  createdAt: Date;

  constructor(mode: Mode, kind: LedgerKind, fromAccount: string, toAccount: string, amount: bigint, task?: Task, createdAt: Date = new Date()) {
    this.mode = mode;
    this.createdAt = createdAt;
    this.kind = kind;
    this.fromAccount = fromAccount;
    this.toAccount = toAccount;
    this.amount = amount;
    this.task = task;
  }
}
