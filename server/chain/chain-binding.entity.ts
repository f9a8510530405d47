import { BigIntType, Entity, PrimaryKey, Property } from "@mikro-orm/core";
import { Mode } from "../common/mode";

/**
 * The chain a mode of this deployment settles on: every process on the
 * database settles there, so the books have one chain to equal. `owner`
 * names the process running it inside itself (the in-process test chain,
 * which ends with that process); null for a chain served over RPC. Each
 * process settling on it renews `beatAt` every second, which tells a live
 * owner from a dead one (server/chain/chain-binding.ts).
 */
@Entity({ tableName: "chain_bindings" })
export class ChainBinding {
  @PrimaryKey({ type: "string", length: 8 })
  mode: Mode;

  /** `<chain id>:<TaskEscrow address>` (Chain.key). */
  @Property({ type: "string", length: 80 })
  chainKey: string;

  @Property({ type: "integer" })
  chainId: number;

  @Property({ type: "string", length: 42 })
  taskEscrow: string;

  /** "<host> pid <pid> (boot <id>, pid namespace <n>)" of the process the chain runs in (without the part in brackets where /proc does not tell); null when served over RPC. */
  @Property({ type: "string", length: 300, nullable: true })
  owner?: string;

  /** Epoch milliseconds of the latest heartbeat; 0 once the owner stopped and its chain with it. */
  @Property({ type: new BigIntType("number") })
  beatAt: number;

  constructor(mode: Mode, chain: { key: string; id: number; escrow: { address: string } }, owner: string | undefined, beatAt: number) {
    this.mode = mode;
    this.chainKey = chain.key;
    this.chainId = chain.id;
    this.taskEscrow = chain.escrow.address;
    this.owner = owner;
    this.beatAt = beatAt;
  }
}
