import type { Em } from "../db/orm";
import { Mode } from "../common/mode";
import { ProofPhoto } from "../proofs/proof.entity";

/**
 * The photo the FRAUD scenario reuses: the latest decodable proof photo of
 * another of the agent's test tasks. Only test photos (the mock operator's)
 * are reused, and only the agent's own: nothing of a live operator's, nor of
 * another agent's, reaches a test task.
 */
export function fraudSource(em: Em, agentId: string, exceptTaskId?: string): Promise<ProofPhoto | null> {
  return em.findOne(
    ProofPhoto,
    { hasCopies: true, proof: { task: { agent: agentId, mode: Mode.TEST, ...(exceptTaskId ? { id: { $ne: exceptTaskId } } : {}) } } },
    { orderBy: { createdAt: "desc" } },
  );
}
