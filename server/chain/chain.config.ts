import fs from "node:fs";
import path from "node:path";
import { inspect } from "node:util";
import { getAddress, isAddress, parseUnits, Wallet } from "ethers";
import { z } from "zod";
import { envInt as int, envProblems } from "../common/env";

/**
 * Where each mode's money settles. Test mode always settles on a local
 * development chain: by default one HumanOps starts in its own process
 * (Hardhat's EDR, with a TestUSDC deployed at boot), or a shared one given by
 * TEST_CHAIN_RPC_URL (a `hardhat node` several replicas use). Live mode
 * settles on the chain given by CHAIN_RPC_URL (Base, Base Sepolia); without
 * it live tasks are refused.
 */
export interface ChainSettings {
  test: EmbeddedChainSettings | RpcChainSettings;
  live?: RpcChainSettings;
  /** How long postTask waits for its escrow's funding transaction to be mined before answering. */
  fundingWaitMs: number;
  /** Seconds after a task's deadline during which only the Guardian may settle its escrow (TaskEscrow's gracePeriod). */
  gracePeriodSeconds: number;
  /** How often the reconciliation sweep compares the books with the chain. */
  reconcileMs: number;
  /** How long a sender holds a claimed outbox row before another may take it (after a crash, the wait before it is resumed). */
  leaseMs: number;
  /** The most HumanOps pays per unit of gas, in gwei (CHAIN_MAX_FEE_GWEI; ethers' parseUnits(…, "gwei") gives wei): above it, transactions wait for the base fee to fall. */
  maxFeeGwei: string;
}

export interface EmbeddedChainSettings {
  kind: "embedded";
  /** Also serve the chain's JSON-RPC on 127.0.0.1:<port> (wallets, scripts); undefined: in-process only. */
  port?: number;
}

export interface ChainDeployment {
  chainId: number;
  taskEscrow: string;
  usdc: string;
  deployBlock: number;
}

export interface RpcChainSettings {
  kind: "rpc";
  rpcUrl: string;
  chainId: number;
  deployment: ChainDeployment;
  keys: ChainKeys;
  /** Blocks a transaction or deposit needs on top of it (itself included) before HumanOps counts it. */
  confirmations: number;
  pollMs: number;
}

/** A private key that prints as "[redacted]" in logs, JSON and inspection. */
export class PrivateKey {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  wallet(): Wallet {
    return new Wallet(this.#value);
  }

  toJSON(): string {
    return "[redacted]";
  }

  [inspect.custom](): string {
    return "[redacted]";
  }
}

/** The platform's two hot keys on a chain: the funding wallet (holds agents' USDC, funds escrows) and the Guardian. */
export interface ChainKeys {
  funder: PrivateKey;
  guardian: PrivateKey;
  /** Pays the gas of settling x402 payments (server/x402); without it the chain offers no x402 payment. Holds ETH only. */
  relayer?: PrivateKey;
}

const BOOL = z.enum(["true", "false"], { error: "must be true or false" });
const KEY = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex private key");
const GWEI_FORMAT = /^(0|[1-9]\d{0,5})(\.\d{1,9})?$/;
const GWEI = z
  .string()
  .regex(GWEI_FORMAT, "must be a number of gwei below 1,000,000 with at most 9 decimals, e.g. 0.5")
  .refine((value) => !GWEI_FORMAT.test(value) || parseUnits(value, "gwei") > 0n, "must be above 0");
const URL_ = z.string().regex(/^(https?|wss?):\/\//, "must be an http(s):// or ws(s):// URL");

/** The variables for one RPC chain, under a prefix: CHAIN_ (live) or TEST_CHAIN_ (test). */
function rpcChainShape(prefix: string) {
  return {
    [`${prefix}RPC_URL`]: URL_.optional(),
    [`${prefix}ID`]: int(1, 2 ** 53 - 1).optional(),
    [`${prefix}DEPLOYMENT`]: z.string().min(1).optional(),
    [`${prefix}KEY_FILE`]: z.string().min(1).optional(),
    [`${prefix}FUNDER_KEY`]: KEY.optional(),
    [`${prefix}GUARDIAN_KEY`]: KEY.optional(),
    [`${prefix}CONFIRMATIONS`]: int(1, 1_000).optional(),
    [`${prefix}RELAYER_KEY`]: KEY.optional(),
  };
}

const ChainEnv = z.object({
  ...rpcChainShape("CHAIN_"),
  ...rpcChainShape("TEST_CHAIN_"),
  LOCAL_CHAIN_PORT: int(1, 65_535).optional(),
  CHAIN_POLL_MS: int(10, 60_000).default(1_000),
  CHAIN_FUNDING_WAIT_MS: int(0, 120_000).default(10_000),
  CHAIN_GRACE_DAYS: int(1, 30).default(7),
  CHAIN_RECONCILE_MS: int(100, 3_600_000).default(30_000),
  CHAIN_LEASE_MS: int(100, 600_000).default(15_000),
  CHAIN_MAX_FEE_GWEI: GWEI.default("10"),
  CHAIN_ALLOW_LOCAL_LIVE: BOOL.default("false"),
  NODE_ENV: z.string().optional(),
});
type ChainEnv = z.infer<typeof ChainEnv>;

/** Hardhat's chain id: a development chain, never one with real money. */
export const LOCAL_CHAIN_ID = 31337;
const DEFAULT_CONFIRMATIONS: Record<number, number> = { 8453: 3, 84532: 2 };

/**
 * Parses the chain settings from the environment. Every problem is returned
 * as "VARIABLE: rule" (files named by the variables are read here, so a
 * missing deployment or key file stops the start with a clear message).
 */
export function parseChainSettings(env: NodeJS.ProcessEnv): { settings?: ChainSettings; problems: string[] } {
  const parsed = ChainEnv.safeParse(env);
  if (!parsed.success) return { problems: envProblems(parsed.error) };
  const e = parsed.data;
  const problems: string[] = [];
  const pollMs = e.CHAIN_POLL_MS;
  const configured = (prefix: "CHAIN_" | "TEST_CHAIN_") => Boolean((e as Record<string, unknown>)[`${prefix}RPC_URL`]);
  const test = configured("TEST_CHAIN_") ? rpcChain(e, "TEST_CHAIN_", pollMs, problems) : { kind: "embedded" as const, port: e.LOCAL_CHAIN_PORT };
  const live = configured("CHAIN_") ? rpcChain(e, "CHAIN_", pollMs, problems) : undefined;
  if (live?.chainId === LOCAL_CHAIN_ID && e.CHAIN_ALLOW_LOCAL_LIVE !== "true") {
    problems.push(`CHAIN_ID: ${LOCAL_CHAIN_ID} is a local development chain; live mode moves real money, so it needs CHAIN_ALLOW_LOCAL_LIVE=true (development only)`);
  }
  if (live?.chainId === LOCAL_CHAIN_ID && e.NODE_ENV === "production") {
    problems.push(`CHAIN_ID: a local development chain (${LOCAL_CHAIN_ID}) cannot be the live chain when NODE_ENV=production`);
  }
  if (test.kind === "rpc" && test.chainId !== LOCAL_CHAIN_ID) {
    problems.push(`TEST_CHAIN_ID: test mode mints its USDC, so it needs a local development chain (${LOCAL_CHAIN_ID}), not ${test.chainId}`);
  }
  if (problems.length) return { problems };
  return {
    problems,
    settings: {
      test,
      live,
      fundingWaitMs: e.CHAIN_FUNDING_WAIT_MS,
      gracePeriodSeconds: e.CHAIN_GRACE_DAYS * 86_400,
      reconcileMs: e.CHAIN_RECONCILE_MS,
      leaseMs: e.CHAIN_LEASE_MS,
      maxFeeGwei: e.CHAIN_MAX_FEE_GWEI,
    },
  };
}

function rpcChain(e: ChainEnv, prefix: "CHAIN_" | "TEST_CHAIN_", pollMs: number, problems: string[]): RpcChainSettings {
  const get = (name: string) => (e as Record<string, unknown>)[`${prefix}${name}`];
  const chainId = get("ID") as number | undefined;
  if (chainId === undefined) problems.push(`${prefix}ID: is required with ${prefix}RPC_URL (8453 Base, 84532 Base Sepolia, ${LOCAL_CHAIN_ID} a local chain)`);
  const id = chainId ?? 0;
  const deploymentPath = (get("DEPLOYMENT") as string | undefined) ?? path.join("deployments", `${id}.json`);
  const deployment = readDeployment(`${prefix}DEPLOYMENT`, deploymentPath, id, problems);
  const keys = readKeys(prefix, get, problems);
  const confirmations = (get("CONFIRMATIONS") as number | undefined) ?? DEFAULT_CONFIRMATIONS[id] ?? 1;
  return { kind: "rpc", rpcUrl: get("RPC_URL") as string, chainId: id, deployment: deployment!, keys: keys!, confirmations, pollMs };
}

const DeploymentFile = z.object({
  chainId: z.number().int(),
  taskEscrow: z.string().refine(isAddress, "must be an address"),
  usdc: z.string().refine(isAddress, "must be an address"),
  deployBlock: z.number().int().min(0),
});

function readDeployment(variable: string, file: string, chainId: number, problems: string[]): ChainDeployment | undefined {
  const resolved = path.resolve(file);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(resolved, "utf8"));
  } catch (err) {
    problems.push(`${variable}: cannot read the deployment record ${resolved} (${(err as Error).message.split("\n")[0]}); deploy with scripts/deploy.ts or name the file`);
    return undefined;
  }
  const parsed = DeploymentFile.safeParse(json);
  if (!parsed.success) {
    problems.push(`${variable}: ${resolved} is not a deployment record (${envProblems(parsed.error).join("; ")})`);
    return undefined;
  }
  if (chainId && parsed.data.chainId !== chainId) {
    problems.push(`${variable}: ${resolved} is for chain ${parsed.data.chainId}, not ${chainId}`);
  }
  return { ...parsed.data, taskEscrow: getAddress(parsed.data.taskEscrow), usdc: getAddress(parsed.data.usdc) };
}

const KeyFile = z.object({ funder: KEY, guardian: KEY, relayer: KEY });

function readKeys(prefix: string, get: (name: string) => unknown, problems: string[]): ChainKeys | undefined {
  let fromFile: { funder?: string; guardian?: string; relayer?: string } = {};
  const keyFile = get("KEY_FILE") as string | undefined;
  if (keyFile) {
    try {
      const parsed = KeyFile.partial().safeParse(JSON.parse(fs.readFileSync(path.resolve(keyFile), "utf8")));
      if (parsed.success) fromFile = parsed.data;
      // The issues name only the fields, never a value: a key file holds secrets.
      else problems.push(`${prefix}KEY_FILE: ${keyFile} must be JSON {"funder": "0x…", "guardian": "0x…"} (${parsed.error.issues.map((i) => i.path.join(".")).join(", ")} invalid)`);
    } catch (err) {
      problems.push(`${prefix}KEY_FILE: cannot read ${keyFile} as JSON (${(err as NodeJS.ErrnoException).code ?? "invalid JSON"})`);
    }
  }
  const funder = (get("FUNDER_KEY") as string | undefined) ?? fromFile.funder;
  const guardian = (get("GUARDIAN_KEY") as string | undefined) ?? fromFile.guardian;
  if (!funder) problems.push(`${prefix}FUNDER_KEY: is required with ${prefix}RPC_URL (or "funder" in ${prefix}KEY_FILE): the platform's funding wallet`);
  if (!guardian) problems.push(`${prefix}GUARDIAN_KEY: is required with ${prefix}RPC_URL (or "guardian" in ${prefix}KEY_FILE): a key holding TaskEscrow's GUARDIAN_ROLE`);
  const relayer = (get("RELAYER_KEY") as string | undefined) ?? fromFile.relayer;
  return funder && guardian ? { funder: new PrivateKey(funder), guardian: new PrivateKey(guardian), ...(relayer ? { relayer: new PrivateKey(relayer) } : {}) } : undefined;
}
