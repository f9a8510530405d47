// Shared by the TaskEscrow suites and scripts/gas-report.ts: deployment fixture, EIP-712 signers, term builders.
import { ethers } from "hardhat";
import type { BaseContract, Contract, ContractRunner, Signer, TypedDataDomain } from "ethers";

/** An ethers Contract whose connect() keeps the ABI's methods typed loosely (this repo generates no TypeChain). */
export type AnyContract = { connect(runner: ContractRunner | null): AnyContract } & Contract;

export async function deploy(name: string, args: unknown[] = []): Promise<AnyContract> {
  return (await ethers.deployContract(name, args)) as AnyContract;
}

export const USDC = (units: number | bigint): bigint => BigInt(units) * 1_000_000n;
export const DAY = 24 * 60 * 60;
export const GRACE = DAY;
export const MAX_UINT256 = ethers.MaxUint256;

export const State = { None: 0n, Funded: 1n, Released: 2n, Refunded: 3n } as const;

export interface Terms {
  funder: string;
  amount: bigint;
  fee: bigint;
  deadline: bigint;
  gracePeriod: bigint;
}

export const TERMS_TYPES = {
  Terms: [
    { name: "funder", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "fee", type: "uint256" },
    { name: "deadline", type: "uint64" },
    { name: "gracePeriod", type: "uint32" },
  ],
};

export const FUNDING_TYPES = {
  Funding: [
    { name: "taskId", type: "bytes32" },
    { name: "terms", type: "Terms" },
  ],
  ...TERMS_TYPES,
};

export const RELEASE_TYPES = {
  Release: [
    { name: "taskId", type: "bytes32" },
    { name: "payee", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

const AUTHORIZATION_FIELDS = [
  { name: "from", type: "address" },
  { name: "to", type: "address" },
  { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
  { name: "nonce", type: "bytes32" },
];

/** USDC's EIP-2612 and EIP-3009 message types. */
export const USDC_TYPES = {
  TransferWithAuthorization: { TransferWithAuthorization: AUTHORIZATION_FIELDS },
  ReceiveWithAuthorization: { ReceiveWithAuthorization: AUTHORIZATION_FIELDS },
  CancelAuthorization: {
    CancelAuthorization: [
      { name: "authorizer", type: "address" },
      { name: "nonce", type: "bytes32" },
    ],
  },
  Permit: {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  },
};

export function taskId(label: string | number): string {
  return ethers.id(`humanops-task-${label}`);
}

export async function latestTimestamp(): Promise<bigint> {
  const block = await ethers.provider.getBlock("latest");
  return BigInt(block!.timestamp);
}

/** Terms for a task due in a day, with a 10% fee and the minimum grace period. */
export async function makeTerms(funder: string, overrides: Partial<Terms> = {}): Promise<Terms> {
  const amount = overrides.amount ?? USDC(15);
  return {
    funder,
    amount,
    fee: amount / 10n,
    deadline: (await latestTimestamp()) + BigInt(DAY),
    gracePeriod: BigInt(GRACE),
    ...overrides,
  };
}

export async function escrowDomain(escrow: BaseContract): Promise<TypedDataDomain> {
  const { chainId } = await ethers.provider.getNetwork();
  return { name: "HumanOps TaskEscrow", version: "1", chainId, verifyingContract: await escrow.getAddress() };
}

export async function tokenDomain(token: Contract): Promise<TypedDataDomain> {
  const { chainId } = await ethers.provider.getNetwork();
  return {
    name: (await token.name()) as string,
    version: (await token.version()) as string,
    chainId,
    verifyingContract: await token.getAddress(),
  };
}

/** The EIP-3009 nonce for funding `id` with `terms`, computed off chain the way an agent's wallet would. */
export async function fundingNonce(escrow: BaseContract, id: string, terms: Terms): Promise<string> {
  return ethers.TypedDataEncoder.hash(await escrowDomain(escrow), FUNDING_TYPES, { taskId: id, terms });
}

export interface Authorization {
  validAfter: bigint;
  validBefore: bigint;
  signature: string;
}

/** The funder's ReceiveWithAuthorization moving `terms.amount` into the escrow for task `id`. */
export async function signFunding(
  token: Contract,
  escrow: BaseContract,
  funder: Signer,
  id: string,
  terms: Terms,
  window: { validAfter?: bigint; validBefore?: bigint; nonce?: string } = {},
): Promise<Authorization> {
  const validAfter = window.validAfter ?? 0n;
  const validBefore = window.validBefore ?? (await latestTimestamp()) + 3600n;
  const message = {
    from: terms.funder,
    to: await escrow.getAddress(),
    value: terms.amount,
    validAfter,
    validBefore,
    nonce: window.nonce ?? (await fundingNonce(escrow, id, terms)),
  };
  const signature = await funder.signTypedData(await tokenDomain(token), USDC_TYPES.ReceiveWithAuthorization, message);
  return { validAfter, validBefore, signature };
}

/** A Guardian's EIP-712 Release signature. `domain` defaults to the escrow's own. */
export async function signRelease(
  guardian: Signer,
  escrow: BaseContract,
  release: { taskId: string; payee: string; amount: bigint; deadline: bigint },
  domain?: TypedDataDomain,
): Promise<string> {
  return guardian.signTypedData(domain ?? (await escrowDomain(escrow)), RELEASE_TYPES, release);
}

/** A TaskEscrow over `token`; the admin also holds the Guardian and pauser roles unless others are named. */
export async function deployEscrow(
  token: BaseContract,
  roles: { treasury: string; admin: string; guardian?: string; pauser?: string },
): Promise<AnyContract> {
  const { treasury, admin, guardian = admin, pauser = admin } = roles;
  return deploy("TaskEscrow", [await token.getAddress(), treasury, admin, DAY, guardian, pauser]);
}

export async function deployEscrowFixture() {
  const [admin, guardian, pauser, treasury, funder, operator, stranger, ...others] = await ethers.getSigners();
  const usdc = await deploy("TestUSDC");
  const escrow = await deployEscrow(usdc, {
    treasury: treasury.address,
    admin: admin.address,
    guardian: guardian.address,
    pauser: pauser.address,
  });
  await usdc.mint(funder.address, USDC(1_000_000));
  await usdc.connect(funder).approve(await escrow.getAddress(), MAX_UINT256);
  return { usdc, escrow, admin, guardian, pauser, treasury, funder, operator, stranger, others };
}
