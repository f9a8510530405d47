import type { EntityMetadata } from "@mikro-orm/core";
import { ReferenceKind } from "@mikro-orm/core";
import type { Em } from "../db/orm";
import { leanRows, leanStatement, loadedEntity, type LeanStatement } from "../db/lean";
import { dialectOf, type Dialect } from "../db/dialect";
import { Escrow } from "../escrow/escrow.entity";
import { ChainTx, type ChainTxKind, OPEN_TX_STATUSES } from "../escrow/chain-tx.entity";
import { Verification } from "../guardian/verification.entity";
import { Proof, ProofPhoto } from "../proofs/proof.entity";
import { TaskEvent } from "./task-event.entity";
import { TaskTip } from "./task-tip.entity";
import type { Task } from "./task.entity";
import { TaskEventKind } from "./task.enums";

/**
 * Entities of other features read with the parts, named rather than imported
 * (those features import tasks/; the names are their MikroORM entity names).
 */
const OPERATOR = "Operator";
const RATING = "Rating";
const DISPUTE = "Dispute";

/** Everything a full read of one task shows besides its own row, read in one statement. */
export interface TaskParts {
  events: TaskEvent[];
  /** Oldest first, each with its photos in `photos`. */
  proofs: Proof[];
  photos: Map<string, ProofPhoto[]>;
  /** The latest verification. */
  verification: Verification | null;
  escrow: Escrow | null;
  /** The kind of the open release or refund of the escrow, if one is under way. */
  settling: ChainTxKind | null;
  /** The operator holding (or who held) the task; null before acceptance. */
  operator: object | null;
  /** Tips after PAID, oldest first. */
  tips: TaskTip[];
  /** Both sides' ratings, oldest first. */
  ratings: object[];
  dispute: object | null;
}

/** What each request (its EntityManager) has read of which task. */
const readByRequest = new WeakMap<Em, Map<string, TaskParts>>();
/** proof id → its photos, for the proofs read above. */
const photosByRequest = new WeakMap<Em, Map<string, ProofPhoto[]>>();
/** proof id → the proof and the task read with it, for the proofs read above. */
const proofsByRequest = new WeakMap<Em, Map<string, { proof: Proof; task: Task }>>();

/** The parts this request already read of `taskId`, if it did. */
export function partsRead(em: Em, taskId: string): TaskParts | undefined {
  return readByRequest.get(em)?.get(taskId);
}

/** The photos of a proof whose task this request read whole. */
export function photosRead(em: Em, proofId: string): ProofPhoto[] | undefined {
  return photosByRequest.get(em)?.get(proofId);
}

/**
 * A proof this request read with its task, and that task as the read was
 * given it (which may be a copy the ORM does not manage: the proof's own
 * relation to it is then an unloaded reference, which the proof's photos'
 * resolvers would otherwise load).
 */
export function proofRead(em: Em, proofId: string): { proof: Proof; task: Task } | undefined {
  return proofsByRequest.get(em)?.get(proofId);
}

const statements = new Map<Dialect, LeanStatement>();

/**
 * Reads a task's events, proofs and their photos, latest verification,
 * escrow and open settlement, its operator, tips, ratings and dispute in one
 * prepared statement (each part as a JSON
 * array or object built by the database), and keeps them for this request,
 * where the field resolvers find them instead of asking one query each.
 * Entities are made by the ORM from the same column values its own reads
 * map (loadedEntity), so they are managed and compare as unchanged at flush;
 * `task`, the task they were read for, is what the proofs' photos' resolvers
 * take as their task (proofRead). Resolves undefined inside a transaction
 * (the field resolvers then read as before).
 */
export async function readTaskParts(em: Em, taskId: string, task?: Task): Promise<TaskParts | undefined> {
  const known = partsRead(em, taskId);
  if (known) return known;
  const dialect = dialectOf(em.getPlatform());
  let statement = statements.get(dialect);
  if (!statement) statements.set(dialect, (statement = partsStatement(em, dialect)));
  const rows = await leanRows<Record<string, unknown>>(em, statement, [taskId, taskId, taskId, taskId, taskId, `settle:${taskId}`, ...OPEN_TX_STATUSES, taskId, taskId, taskId, taskId]);
  if (!rows) return undefined;
  const row = rows[0];
  const list = (value: unknown): Array<Record<string, unknown>> => (value == null ? [] : ((typeof value === "string" ? JSON.parse(value) : value) as Array<Record<string, unknown>>));
  const one = (value: unknown): Record<string, unknown> | null => (value == null ? null : ((typeof value === "string" ? JSON.parse(value) : value) as Record<string, unknown>));

  const events = list(row.events).map((data) => loadedEntity(em, TaskEvent, data));
  events.sort((a, b) => Number(a.id) - Number(b.id));
  const proofs = list(row.proofs).map((data) => loadedEntity(em, Proof, data));
  proofs.sort((a, b) => a.attempt - b.attempt);
  const photos = new Map<string, ProofPhoto[]>(proofs.map((proof) => [proof.id, []]));
  for (const data of list(row.photos)) {
    const photo = loadedEntity(em, ProofPhoto, data);
    photos.get(photo.proof.id)?.push(photo);
  }
  for (const set of photos.values()) set.sort((a, b) => a.position - b.position);
  const verificationRow = one(row.verification);
  const escrowRow = one(row.escrow);
  const operatorRow = one(row.operator);
  const disputeRow = one(row.dispute);
  const tips = list(row.tips).map((data) => loadedEntity(em, TaskTip, data));
  tips.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  const ratings = list(row.ratings).map((data) => loadedEntity<{ createdAt: Date }>(em, RATING, data));
  ratings.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const parts: TaskParts = {
    events,
    proofs,
    photos,
    verification: verificationRow ? loadedEntity(em, Verification, verificationRow) : null,
    escrow: escrowRow ? loadedEntity(em, Escrow, escrowRow) : null,
    settling: (row.settling as ChainTxKind | null) ?? null,
    operator: operatorRow ? loadedEntity(em, OPERATOR, operatorRow) : null,
    tips,
    ratings,
    dispute: disputeRow ? loadedEntity(em, DISPUTE, disputeRow) : null,
  };
  let read = readByRequest.get(em);
  if (!read) readByRequest.set(em, (read = new Map<string, TaskParts>()));
  read.set(taskId, parts);
  let photosRead = photosByRequest.get(em);
  if (!photosRead) photosByRequest.set(em, (photosRead = new Map<string, ProofPhoto[]>()));
  for (const [proofId, set] of photos) photosRead.set(proofId, set);
  if (task) {
    let proofsRead = proofsByRequest.get(em);
    if (!proofsRead) proofsByRequest.set(em, (proofsRead = new Map<string, { proof: Proof; task: Task }>()));
    for (const proof of proofs) proofsRead.set(proof.id, { proof, task });
  }
  return parts;
}

/** Every column of an entity as a JSON object the database builds (bigints as text, so none loses precision). */
function jsonObject(meta: EntityMetadata, alias: string, dialect: Dialect): string {
  const pairs: string[] = [];
  for (const prop of meta.props) {
    // Lazy columns (a photo's bytes) are left out, as the ORM's own reads leave them.
    if (!prop.fieldNames?.length || prop.persist === false || prop.lazy) continue;
    if (prop.kind !== ReferenceKind.SCALAR && !(prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner))) continue;
    for (const field of prop.fieldNames) {
      const column = `${alias}."${field}"`;
      const bigint = (prop.columnTypes?.[0] ?? "").toLowerCase().includes("bigint") || prop.type?.toLowerCase?.().includes("bigint");
      pairs.push(`'${field}', ${bigint ? (dialect === "postgresql" ? `${column}::text` : `cast(${column} as text)`) : column}`);
    }
  }
  return dialect === "postgresql" ? `json_build_object(${pairs.join(", ")})` : `json_object(${pairs.join(", ")})`;
}

function partsStatement(em: Em, dialect: Dialect): LeanStatement {
  const meta = em.getMetadata();
  const table = (entity: { name: string } | string) => `"${meta.get(typeof entity === "string" ? entity : entity.name).tableName}"`;
  const object = (entity: { name: string } | string, alias: string) => jsonObject(meta.get(typeof entity === "string" ? entity : entity.name), alias, dialect);
  const array = (entity: { name: string } | string, alias: string, from: string) =>
    dialect === "postgresql" ? `(select json_agg(${object(entity, alias)}) from ${from})` : `(select json_group_array(${object(entity, alias)}) from ${from})`;
  const statuses = OPEN_TX_STATUSES.map(() => "?").join(", ");
  return leanStatement(
    "task_parts",
    `select
      ${array(TaskEvent, "e", `${table(TaskEvent)} e where e."task_id" = ? and e."kind" <> '${TaskEventKind.MESSAGE_POSTED}'`)} as events,
      ${array(Proof, "p", `${table(Proof)} p where p."task_id" = ?`)} as proofs,
      ${array(ProofPhoto, "ph", `${table(ProofPhoto)} ph join ${table(Proof)} pp on pp."id" = ph."proof_id" where pp."task_id" = ?`)} as photos,
      (select ${object(Verification, "v")} from ${table(Verification)} v where v."task_id" = ? order by v."created_at" desc limit 1) as verification,
      (select ${object(Escrow, "es")} from ${table(Escrow)} es where es."task_id" = ?) as escrow,
      (select c."kind" from ${table(ChainTx)} c where c."intent_key" = ? and c."status" in (${statuses}) limit 1) as settling,
      (select ${object(OPERATOR, "o")} from ${table(OPERATOR)} o where o."id" = (select t."operator_id" from "tasks" t where t."id" = ?)) as operator,
      ${array(TaskTip, "tp", `${table(TaskTip)} tp where tp."task_id" = ?`)} as tips,
      ${array(RATING, "r", `${table(RATING)} r where r."task_id" = ?`)} as ratings,
      (select ${object(DISPUTE, "d")} from ${table(DISPUTE)} d where d."task_id" = ?) as dispute`,
  );
}
