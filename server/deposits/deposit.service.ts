import { UniqueConstraintViolationException } from "@mikro-orm/core";
import { ZeroAddress, getAddress } from "ethers";
import type { Em } from "../db/orm";
import { ConflictError, DomainError, ForbiddenError, ValidationError } from "../common/errors";
import type { Mode } from "../common/mode";
import { Agent } from "../agents/agent.entity";
import type { Chain, Chains } from "../chain/chains";
import type { Log, Transfer } from "../chain/contracts";
import { receiptOf, type Receipt } from "../chain/transactions";
import { LedgerKind } from "../ledger/ledger-entry.entity";
import { Accounts, type LedgerService } from "../ledger/ledger.service";
import type { AgentPrincipal } from "../tasks/task.service";
import { AgentWallet, Deposit } from "./deposit.entity";

const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

interface IncomingTransaction {
  txHash: string;
  blockNumber: number;
  from: string;
  /** False when the USDC came from several senders: nobody can be credited. */
  singleSender: boolean;
  amount: bigint;
}

/**
 * USDC deposits. The deposit address of a mode is the platform's funding
 * wallet on that mode's chain; USDC sent there from a wallet linked to an
 * agent is credited to the agent's balance once per transaction hash, after
 * the chain's confirmation depth. The indexer credits deposits as it meets
 * them; `claim` (the creditDeposit mutation) credits one at once on request.
 */
export class DepositService {
  constructor(
    private readonly chains: Chains,
    private readonly ledger: LedgerService,
  ) {}

  depositChain(principal: AgentPrincipal): Chain {
    return this.chains.require(principal.mode);
  }

  /** The creditDeposit mutation: the transaction must be confirmed, move USDC to the deposit address, and come from one of the caller's wallets. */
  async claim(em: Em, principal: AgentPrincipal, txHash: unknown): Promise<Deposit> {
    if (typeof txHash !== "string" || !TX_HASH.test(txHash)) throw new ValidationError("txHash", "must be a 0x-prefixed 32-byte transaction hash");
    const hash = txHash.toLowerCase();
    const chain = this.depositChain(principal);
    const incoming = await this.incoming(chain, hash);
    if (!incoming.singleSender) throw new ValidationError("txHash", "moves USDC to the deposit address from several senders; send each deposit from one wallet");
    const wallet = await em.findOne(AgentWallet, { address: incoming.from });
    if (wallet?.agent.id !== principal.agentId) {
      throw new ForbiddenError(`transaction ${hash} sent USDC from ${incoming.from}, which is not a wallet linked to this agent (linkWallet first)`);
    }
    try {
      return await em.transactional(async (tx) => {
        if (await tx.count(Deposit, { chainKey: chain.key, txHash: hash })) throw alreadyCredited(hash);
        return this.credit(tx, chain, incoming, await tx.findOneOrFail(Agent, principal.agentId));
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw alreadyCredited(hash);
      throw err;
    }
  }

  /** The indexer met a USDC transfer into the funding wallet; mints and escrow refunds are not deposits. */
  async recordTransfer(em: Em, chain: Chain, transfer: Transfer, txHash: string, blockNumber: number): Promise<void> {
    if (transfer.from === ZeroAddress || transfer.from === chain.escrow.address) return;
    if (await em.count(Deposit, { chainKey: chain.key, txHash })) return;
    const receipt = await receiptOf(chain.rpc, txHash);
    if (!receipt || isX402Settlement(chain, receipt)) return;
    const incoming = summed(txHash, blockNumber, this.transfersIn(chain, receipt.logs));
    const wallet = incoming.singleSender ? await em.findOne(AgentWallet, { address: incoming.from }) : null;
    this.credit(em, chain, incoming, wallet?.agent);
  }

  async history(em: Em, agentId: string, mode: Mode, limit: number): Promise<Deposit[]> {
    return em.find(Deposit, { agent: agentId, mode }, { orderBy: { createdAt: "desc" }, limit });
  }

  private credit(em: Em, chain: Chain, incoming: IncomingTransaction, agent: Agent | undefined): Deposit {
    const deposit = new Deposit(chain.key, chain.mode, incoming, agent);
    em.persist(deposit);
    this.ledger.post(em, chain.mode, LedgerKind.DEPOSIT, Accounts.deposits, agent ? Accounts.agent(agent.id) : Accounts.unattributed, incoming.amount);
    return deposit;
  }

  private async incoming(chain: Chain, txHash: string): Promise<IncomingTransaction> {
    const receipt = await receiptOf(chain.rpc, txHash);
    if (!receipt) throw new DomainError("NOT_FOUND", `transaction ${txHash} is not on ${chain.network} (chain ${chain.id}) yet`, "txHash");
    if (receipt.status !== "0x1") throw new ValidationError("txHash", "is a transaction that reverted: it moved no USDC");
    if (isX402Settlement(chain, receipt)) throw new ValidationError("txHash", "is the x402 payment of a task (see the task's x402_payment), not a deposit");
    const transfers = this.transfersIn(chain, receipt.logs);
    if (transfers.length === 0) throw new ValidationError("txHash", `moves no USDC (${chain.usdc.address}) to the deposit address ${chain.funder.address}`);
    const blockNumber = Number(BigInt(receipt.blockNumber));
    const confirmations = (await chain.head()) - blockNumber + 1;
    if (confirmations < chain.confirmations) {
      throw new ConflictError(`transaction ${txHash} has ${confirmations} of the ${chain.confirmations} confirmations a deposit needs; try again shortly`, { confirmations, required: chain.confirmations });
    }
    return summed(txHash, blockNumber, transfers);
  }

  /** USDC transfers into the funding wallet that are deposits (not mints, not refunds from the escrow). */
  private transfersIn(chain: Chain, logs: Log[]): Transfer[] {
    return logs
      .map((log) => chain.usdc.parseTransfer(log))
      .filter((t): t is Transfer => t !== undefined && t.to === chain.funder.address && t.from !== ZeroAddress && t.from !== chain.escrow.address);
  }
}

/** The relayer sends nothing but x402 settlements (server/x402): their USDC paid for a task, it is not a deposit. */
function isX402Settlement(chain: Chain, receipt: Receipt): boolean {
  return !!chain.relayer && !!receipt.from && getAddress(receipt.from) === chain.relayer.address;
}

function summed(txHash: string, blockNumber: number, transfers: Transfer[]): IncomingTransaction {
  return {
    txHash,
    blockNumber,
    from: transfers[0].from,
    singleSender: new Set(transfers.map((t) => t.from)).size === 1,
    amount: transfers.reduce((sum, t) => sum + t.value, 0n),
  };
}

function alreadyCredited(txHash: string): ConflictError {
  return new ConflictError(`deposit ${txHash} was already credited; a transaction is credited once`, { txHash });
}
