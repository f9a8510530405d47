import { randomBytes } from "node:crypto";
import type { Em } from "../db/orm";
import { ConflictError, NotFoundError, UnauthenticatedError, ValidationError } from "../common/errors";
import type { ApiKeyService } from "../agents/api-key.service";
import { Admin, AdminAuditEntry } from "./admin.entity";

/** Who is calling with an admin key. */
export interface AdminPrincipal {
  adminId: string;
  name: string;
}

export const ADMIN_KEY_PREFIX = "ho_admin_";
const ADMIN_KEY_FORMAT = /^ho_admin_[A-Za-z0-9_-]{43}$/;
const ADMIN_NAME = /^[A-Za-z0-9._@-]{1,100}$/;

export const AdminActions = {
  DISPUTE_DECIDED: "DISPUTE_DECIDED",
  ADMIN_CREATED: "ADMIN_CREATED",
  ADMIN_REVOKED: "ADMIN_REVOKED",
} as const;

export function isAdminKey(plaintext: string): boolean {
  return plaintext.startsWith(ADMIN_KEY_PREFIX);
}

/**
 * Platform administrators and their keys (ho_admin_..., 256 random bits,
 * stored as an HMAC under the API key pepper), and the audit log every
 * administrative act writes to.
 */
export class AdminService {
  constructor(private readonly keys: ApiKeyService) {}

  /** A new admin with its key; the plaintext is returned once and never stored. */
  async create(em: Em, name: string): Promise<{ admin: Admin; key: string }> {
    if (!ADMIN_NAME.test(name)) throw new ValidationError("name", "must be 1-100 letters, digits or . _ @ -");
    return em.transactional(async (tx) => {
      if (await tx.findOne(Admin, { name })) throw new ConflictError(`an admin named ${name} already exists`);
      const key = ADMIN_KEY_PREFIX + randomBytes(32).toString("base64url");
      const admin = new Admin(name, this.keys.hash(key), key.slice(0, 16));
      tx.persist(admin);
      this.audit(tx, null, AdminActions.ADMIN_CREATED, `admin ${name} created`);
      return { admin, key };
    });
  }

  async revoke(em: Em, name: string): Promise<void> {
    await em.transactional(async (tx) => {
      const admin = await tx.findOne(Admin, { name, revokedAt: null });
      if (!admin) throw new NotFoundError("admin", name);
      admin.revokedAt = new Date();
      this.audit(tx, null, AdminActions.ADMIN_REVOKED, `admin ${name}'s key revoked`);
    });
  }

  async authenticate(em: Em, plaintext: string): Promise<AdminPrincipal> {
    if (!ADMIN_KEY_FORMAT.test(plaintext)) throw new UnauthenticatedError("the admin key is malformed: expected ho_admin_...");
    const admin = await em.findOne(Admin, { keyHash: this.keys.hash(plaintext) });
    if (!admin || admin.revokedAt) throw new UnauthenticatedError("the admin key is not valid or has been revoked");
    return { adminId: admin.id, name: admin.name };
  }

  /** Adds an entry to the audit log, in the caller's unit of work. */
  audit(em: Em, admin: Admin | null, action: string, detail: string, taskId?: string): void {
    em.persist(new AdminAuditEntry(admin, action, detail, taskId));
  }

  /** The audit log, newest first, `first` entries before the entry `before` (an id). */
  async log(em: Em, first: number, before?: string): Promise<{ nodes: AdminAuditEntry[]; hasNextPage: boolean }> {
    const rows = await em.find(AdminAuditEntry, before ? { id: { $lt: before } } : {}, { orderBy: { id: "desc" }, limit: first + 1, populate: ["admin"] });
    return { nodes: rows.slice(0, first), hasNextPage: rows.length > first };
  }
}
