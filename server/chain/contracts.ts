import fs from "node:fs";
import path from "node:path";
import { AbiCoder, Interface, MaxUint256, getAddress, id as keccakText, type LogDescription } from "ethers";
import type { Rpc } from "./rpc";

/**
 * Thin typed bindings to TaskEscrow and USDC. The ABIs come from the Hardhat
 * artifacts (`npm run build` and `npm test` compile them), so the server and
 * the contracts cannot drift apart; no generated code is involved.
 */
interface Artifact {
  abi: ConstructorParameters<typeof Interface>[0];
  bytecode: string;
}

const ARTIFACTS = {
  TaskEscrow: "artifacts/contracts/TaskEscrow.sol/TaskEscrow.json",
  TestUSDC: "artifacts/contracts/test/TestUSDC.sol/TestUSDC.json",
} as const;

let root: string | undefined;

/** The project directory: the nearest parent holding the artifacts (server/ under ts-node, dist/server/ when built). */
function projectRoot(): string {
  if (root) return root;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, ARTIFACTS.TaskEscrow))) return (root = dir);
    if (path.dirname(dir) === dir) throw new Error(`contract artifacts not found above ${__dirname}: run \`npm run compile\` first`);
  }
}

const loaded = new Map<string, Artifact>();

export function artifact(name: keyof typeof ARTIFACTS): Artifact {
  let found = loaded.get(name);
  if (!found) {
    found = JSON.parse(fs.readFileSync(path.join(projectRoot(), ARTIFACTS[name]), "utf8")) as Artifact;
    loaded.set(name, found);
  }
  return found;
}

/** TaskEscrow's `Terms`: fixed at funding, passed back to settle. */
export interface Terms {
  funder: string;
  amount: bigint;
  fee: bigint;
  deadline: bigint;
  gracePeriod: bigint;
}

/** TaskEscrow's per-task state (`escrowOf(taskId).state`). */
export enum EscrowState {
  None = 0,
  Funded = 1,
  Released = 2,
  Refunded = 3,
}

export type EscrowEvent =
  | { name: "TaskFunded"; taskId: string; funder: string; amount: bigint; fee: bigint; deadline: bigint; gracePeriod: bigint }
  | { name: "TaskReleased"; taskId: string; payee: string; payout: bigint; fee: bigint }
  | { name: "TaskRefunded" | "TaskReclaimed"; taskId: string; funder: string; amount: bigint }
  | { name: "TaskAmended"; taskId: string; funder: string; amount: bigint; fee: bigint; deadline: bigint; gracePeriod: bigint }
  | { name: "TaskTipped"; taskId: string; from: string; payee: string; amount: bigint };

export interface Log {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  transactionHash: string;
  logIndex: string;
}

const termsTuple = (terms: Terms) => [terms.funder, terms.amount, terms.fee, terms.deadline, terms.gracePeriod];

async function call(rpc: Rpc, to: string, data: string, block: string = "latest"): Promise<string> {
  return rpc.request<string>("eth_call", [{ to, data }, block]);
}

export class TaskEscrowContract {
  static readonly iface = new Interface(artifact("TaskEscrow").abi);
  static readonly EVENT_TOPICS = ["TaskFunded", "TaskReleased", "TaskRefunded", "TaskReclaimed", "TaskAmended", "TaskTipped"].map(
    (name) => TaskEscrowContract.iface.getEvent(name)!.topicHash,
  );
  readonly address: string;

  constructor(address: string) {
    this.address = getAddress(address);
  }

/** Funds `taskId` from the funder's EIP-3009 receiveWithAuthorization (x402's escrow scheme). */
  fundWithAuthorization(taskId: string, terms: Terms, validAfter: bigint, validBefore: bigint, signature: string): string {
    return TaskEscrowContract.iface.encodeFunctionData("fundWithAuthorization", [taskId, terms, validAfter, validBefore, signature]);
  }

    fund(taskId: string, terms: Terms): string {
    return TaskEscrowContract.iface.encodeFunctionData("fund", [taskId, termsTuple(terms)]);
  }

  release(taskId: string, terms: Terms, payee: string): string {
    return TaskEscrowContract.iface.encodeFunctionData("release", [taskId, termsTuple(terms), payee]);
  }

  /** The funder of every entry: each task funded as by `fund`, all or nothing (one entry's error reverts the whole batch). */
  fundBatch(entries: ReadonlyArray<{ taskId: string; terms: Terms }>): string {
    return TaskEscrowContract.iface.encodeFunctionData("fundBatch", [entries.map((e) => e.taskId), entries.map((e) => termsTuple(e.terms))]);
  }

  /** The Guardian: each task released as by `release`, all or nothing (one entry's error reverts the whole batch). */
  releaseBatch(entries: ReadonlyArray<{ taskId: string; terms: Terms; payee: string }>): string {
    return TaskEscrowContract.iface.encodeFunctionData("releaseBatch", [entries.map((e) => e.taskId), entries.map((e) => termsTuple(e.terms)), entries.map((e) => e.payee)]);
  }

  refund(taskId: string, terms: Terms): string {
    return TaskEscrowContract.iface.encodeFunctionData("refund", [taskId, termsTuple(terms)]);
  }

  /** Anyone, from deadline + grace: the money goes back to the funder. */
  reclaim(taskId: string, terms: Terms): string {
    return TaskEscrowContract.iface.encodeFunctionData("reclaim", [taskId, termsTuple(terms)]);
  }

  /** The funder: a higher amount (the difference is pulled) and/or a later deadline; `newTerms` settle the task from then on. */
  amend(taskId: string, terms: Terms, newTerms: Terms): string {
    return TaskEscrowContract.iface.encodeFunctionData("amend", [taskId, termsTuple(terms), termsTuple(newTerms)]);
  }

  /** A tip for a released task, paid straight from the caller to `payee`. */
  tip(taskId: string, payee: string, amount: bigint): string {
    return TaskEscrowContract.iface.encodeFunctionData("tip", [taskId, payee, amount]);
  }

  async escrowOf(rpc: Rpc, taskId: string): Promise<{ state: EscrowState; termsHash: string }> {
    const [record] = TaskEscrowContract.iface.decodeFunctionResult("escrowOf", await call(rpc, this.address, TaskEscrowContract.iface.encodeFunctionData("escrowOf", [taskId])));
    return { termsHash: record.termsHash as string, state: Number(record.state) as EscrowState };
  }

  async verifyTerms(rpc: Rpc, taskId: string, terms: Terms): Promise<boolean> {
    const data = TaskEscrowContract.iface.encodeFunctionData("verifyTerms", [taskId, termsTuple(terms)]);
    return Boolean(TaskEscrowContract.iface.decodeFunctionResult("verifyTerms", await call(rpc, this.address, data))[0]);
  }

  async treasury(rpc: Rpc): Promise<string> {
    return getAddress(TaskEscrowContract.iface.decodeFunctionResult("treasury", await call(rpc, this.address, TaskEscrowContract.iface.encodeFunctionData("treasury")))[0] as string);
  }

  async isGuardian(rpc: Rpc, account: string): Promise<boolean> {
    const data = TaskEscrowContract.iface.encodeFunctionData("hasRole", [keccakText("GUARDIAN_ROLE"), account]);
    return Boolean(TaskEscrowContract.iface.decodeFunctionResult("hasRole", await call(rpc, this.address, data))[0]);
  }

  /** A TaskEscrow settlement event, or undefined for any other log. */
  parse(log: Log): EscrowEvent | undefined {
    if (getAddress(log.address) !== this.address) return undefined;
    let parsed: LogDescription | null;
    try {
      parsed = TaskEscrowContract.iface.parseLog(log);
    } catch {
      return undefined;
    }
    if (!parsed) return undefined;
    const a = parsed.args;
    switch (parsed.name) {
      case "TaskFunded":
        return { name: "TaskFunded", taskId: a.taskId, funder: getAddress(a.funder), amount: a.amount, fee: a.fee, deadline: a.deadline, gracePeriod: a.gracePeriod };
      case "TaskReleased":
        return { name: "TaskReleased", taskId: a.taskId, payee: getAddress(a.payee), payout: a.payout, fee: a.fee };
      case "TaskRefunded":
      case "TaskReclaimed":
        return { name: parsed.name, taskId: a.taskId, funder: getAddress(a.funder), amount: a.amount };
      case "TaskAmended":
        return { name: "TaskAmended", taskId: a.taskId, funder: getAddress(a.funder), amount: a.amount, fee: a.fee, deadline: a.deadline, gracePeriod: a.gracePeriod };
      case "TaskTipped":
        return { name: "TaskTipped", taskId: a.taskId, from: getAddress(a.from), payee: getAddress(a.payee), amount: a.amount };
      default:
        return undefined;
    }
  }
}

export interface Transfer {
  from: string;
  to: string;
  value: bigint;
}

export class UsdcContract {
  static readonly iface = new Interface(artifact("TestUSDC").abi);
  static readonly TRANSFER_TOPIC = UsdcContract.iface.getEvent("Transfer")!.topicHash;
  readonly address: string;

  constructor(address: string) {
    this.address = getAddress(address);
  }

  transfer(to: string, amount: bigint): string {
    return UsdcContract.iface.encodeFunctionData("transfer", [to, amount]);
  }

  /** TestUSDC only: its owner mints. */
  mint(to: string, amount: bigint): string {
    return UsdcContract.iface.encodeFunctionData("mint", [to, amount]);
  }

  approveAll(spender: string): string {
    return UsdcContract.iface.encodeFunctionData("approve", [spender, MaxUint256]);
  }

  async balanceOf(rpc: Rpc, account: string, block?: string): Promise<bigint> {
    return BigInt(await call(rpc, this.address, UsdcContract.iface.encodeFunctionData("balanceOf", [account]), block));
  }

  async allowance(rpc: Rpc, owner: string, spender: string): Promise<bigint> {
    return BigInt(await call(rpc, this.address, UsdcContract.iface.encodeFunctionData("allowance", [owner, spender])));
  }

  /** TestUSDC's owner (the account that may mint); fails on a token without `owner()`. */
  async owner(rpc: Rpc): Promise<string> {
    return getAddress(UsdcContract.iface.decodeFunctionResult("owner", await call(rpc, this.address, UsdcContract.iface.encodeFunctionData("owner")))[0] as string);
  }

  parseTransfer(log: Log): Transfer | undefined {
    if (getAddress(log.address) !== this.address || log.topics[0] !== UsdcContract.TRANSFER_TOPIC || log.topics.length !== 3) return undefined;
    return {
      from: getAddress(`0x${log.topics[1].slice(26)}`),
      to: getAddress(`0x${log.topics[2].slice(26)}`),
      value: BigInt(AbiCoder.defaultAbiCoder().decode(["uint256"], log.data)[0] as bigint),
    };
  }

  /** The topic filter for Transfer logs to `account`. */
  static transfersTo(account: string): Array<string | null> {
    return [UsdcContract.TRANSFER_TOPIC, null, AbiCoder.defaultAbiCoder().encode(["address"], [account])];
  }
}

/** A decoded revert payload: the custom error's name and arguments (TaskEscrow's, USDC's or OpenZeppelin's). */
export function decodeRevert(data: string | undefined): { name: string; args: unknown[] } | undefined {
  if (!data) return undefined;
  for (const iface of [TaskEscrowContract.iface, UsdcContract.iface]) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return { name: parsed.name, args: [...parsed.args] };
    } catch {
      // not this contract's error
    }
  }
  return undefined;
}

/** A readable name for a revert payload: "TaskEscrowNotFunded(0x…)", "ERC20InsufficientBalance(…)", or the raw selector. */
export function describeRevert(data: string | undefined): string | undefined {
  if (!data) return undefined;
  const decoded = decodeRevert(data);
  return decoded ? `${decoded.name}(${decoded.args.map((arg) => String(arg)).join(", ")})` : `revert ${data.slice(0, 10)}`;
}
