import { BigIntType, Entity, Enum, Index, ManyToOne, Property, Unique } from "@mikro-orm/core";
import { Field, ObjectType } from "type-graphql";
import { BaseEntity } from "../common/base.entity";
import { Mode } from "../common/mode";
import { Agent } from "../agents/agent.entity";

/** A wallet an agent proved it controls (by signing a challenge); USDC it sends to the deposit address is credited to the agent. */
@ObjectType()
@Entity({ tableName: "agent_wallets" })
@Index({ properties: ["agent"] })
export class AgentWallet extends BaseEntity {
  @ManyToOne(() => Agent)
  agent: Agent;

  @Field(() => String, { description: "EIP-55 checksummed address" })
  @Unique()
  @Property({ type: "string", length: 42 })
  address: string;

  constructor(agent: Agent, address: string) {
    super();
    this.agent = agent;
    this.address = address;
  }
}

/** A one-time message an agent's wallet signs (EIP-191) to link itself. */
@Entity({ tableName: "wallet_challenges" })
@Index({ properties: ["agent", "createdAt"] })
export class WalletChallenge extends BaseEntity {
  @ManyToOne(() => Agent)
  agent: Agent;

  @Property({ type: "text" })
  message: string;

  @Property({ type: "Date" })
  expiresAt: Date;

  @Property({ type: "Date", nullable: true })
  usedAt?: Date;

  constructor(agent: Agent, message: string, expiresAt: Date) {
    super();
    this.agent = agent;
    this.message = message;
    this.expiresAt = expiresAt;
  }
}

/**
 * USDC that arrived at the deposit address in one transaction, credited once:
 * the transaction hash is unique per chain. `agent` is null when the sender
 * was no linked wallet (the money is booked to platform:unattributed).
 */
@Entity({ tableName: "deposits" })
@Unique({ properties: ["chainKey", "txHash"] })
@Index({ properties: ["agent", "createdAt"] })
export class Deposit extends BaseEntity {
  @Property({ type: "string", length: 80 })
  chainKey: string;

  @Enum({ items: () => Mode })
  mode: Mode;

  @Property({ type: "string", length: 66 })
  txHash: string;

  @Property({ type: "string", length: 42 })
  fromAddress: string;

  @Property({ type: new BigIntType("bigint") })
  amount: bigint;

  @Property({ type: new BigIntType("number") })
  blockNumber: number;

  @ManyToOne(() => Agent, { nullable: true })
  agent?: Agent;

  constructor(chainKey: string, mode: Mode, transfer: { txHash: string; from: string; amount: bigint; blockNumber: number }, agent?: Agent) {
    super();
    this.chainKey = chainKey;
    this.mode = mode;
    this.txHash = transfer.txHash;
    this.fromAddress = transfer.from;
    this.amount = transfer.amount;
    this.blockNumber = transfer.blockNumber;
    this.agent = agent;
  }
}
