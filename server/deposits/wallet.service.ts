import { randomBytes } from "node:crypto";
import { UniqueConstraintViolationException } from "@mikro-orm/core";
import { verifyMessage } from "ethers";
import type { Em } from "../db/orm";
import { ConflictError, ValidationError } from "../common/errors";
import { Mode } from "../common/mode";
import { evmAddress } from "../common/validate";
import { Agent } from "../agents/agent.entity";
import { ApiKey } from "../agents/api-key.entity";
import type { ApiKeyService } from "../agents/api-key.service";
import type { AgentPrincipal } from "../tasks/task.service";
import { AgentWallet, WalletChallenge } from "./deposit.entity";

const CHALLENGE_TTL_MS = 10 * 60_000;

export interface WalletLink {
  wallet: AgentWallet;
  /** Issued with the agent's first linked wallet; shown once. */
  liveApiKey?: string;
}

/**
 * Linking a wallet to an agent: the agent asks for a one-time message, signs
 * it with the wallet (EIP-191 personal_sign) and sends the signature back.
 * A linked wallet's USDC deposits are credited to the agent, and the first
 * link issues the agent's live API key.
 */
export class WalletService {
  constructor(private readonly keys: ApiKeyService) {}

  async challenge(em: Em, principal: AgentPrincipal): Promise<WalletChallenge> {
    const agent = await em.findOneOrFail(Agent, principal.agentId);
    const expiresAt = new Date(Date.now() + CHALLENGE_TTL_MS);
    const message = [
      "HumanOps wallet link",
      `Agent: ${agent.id}`,
      `Nonce: ${randomBytes(16).toString("hex")}`,
      `Expires: ${expiresAt.toISOString()}`,
      "Signing links this wallet to the agent for USDC deposits. It moves no funds and costs nothing.",
    ].join("\n");
    const challenge = new WalletChallenge(agent, message, expiresAt);
    await em.persist(challenge).flush();
    return challenge;
  }

  async link(em: Em, principal: AgentPrincipal, addressInput: unknown, signature: unknown): Promise<WalletLink> {
    const address = evmAddress(addressInput, "address");
    if (typeof signature !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(signature)) {
      throw new ValidationError("signature", "must be a 65-byte 0x-prefixed hex signature (personal_sign of the challenge message)");
    }
    try {
      return await em.transactional(async (tx) => {
        const challenge = await tx.findOne(
          WalletChallenge,
          { agent: principal.agentId, usedAt: null, expiresAt: { $gt: new Date() } },
          { orderBy: { createdAt: "desc" } },
        );
        if (!challenge) throw new ValidationError("signature", "there is no open challenge for this agent: ask walletLinkChallenge for one (it is valid for 10 minutes)");
        if (recovered(challenge.message, signature) !== address) {
          throw new ValidationError("signature", `was not made by ${address} over the latest challenge message`);
        }
        challenge.usedAt = new Date();
        const agent = await tx.findOneOrFail(Agent, principal.agentId);
        const existing = await tx.findOne(AgentWallet, { address });
        if (existing && existing.agent.id !== agent.id) throw new ConflictError(`wallet ${address} is linked to another agent`);
        const wallet = existing ?? new AgentWallet(agent, address);
        tx.persist(wallet);
        const hasLiveKey = (await tx.count(ApiKey, { agent: agent.id, mode: Mode.LIVE })) > 0;
        return { wallet, liveApiKey: hasLiveKey ? undefined : this.keys.issue(tx, Mode.LIVE, { agent }) };
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new ConflictError(`wallet ${address} is linked to another agent`);
      throw err;
    }
  }

  async wallets(em: Em, agentId: string): Promise<AgentWallet[]> {
    return em.find(AgentWallet, { agent: agentId }, { orderBy: { createdAt: "asc" } });
  }
}

function recovered(message: string, signature: string): string | undefined {
  try {
    return verifyMessage(message, signature);
  } catch {
    return undefined;
  }
}
