import type { Principal } from "./api-key.service";

/** Keys remembered at most; past it the oldest entry goes (a Map iterates in insertion order). */
const MAX_ENTRIES = 50_000;

interface Entry {
  principal: Principal;
  expiresAt: number;
}

/**
 * The callers this replica resolved from API keys, by key hash, each for
 * `ttlMs`: a request with a known key costs no database round trip.
 *
 * A revocation is forgotten here at once (forget), on this replica by the
 * revoking call and on the others by the cluster bus's notice; the
 * time-to-live bounds how long a replica that missed the notice (no Redis, a
 * lost message) still accepts the key. A key revoked here is not cached
 * again for one time-to-live, so a lookup that raced the revocation, or read
 * the row before the revoking transaction committed, cannot put it back.
 */
export class CallerCache {
  private readonly byHash = new Map<string, Entry>();
  private readonly hashOfKey = new Map<string, string>();
  /** keyId → until when it is not cached (a revocation heard recently). */
  private readonly revokedRecently = new Map<string, number>();
  /** Bumped by every forget: a lookup that began before one does not cache what it read. */
  private generation = 0;

  constructor(
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /** What a lookup that starts now hands back to `remember`. */
  mark(): number {
    return this.generation;
  }

  get(hash: string): Principal | undefined {
    const entry = this.byHash.get(hash);
    if (!entry) return undefined;
    if (entry.expiresAt > this.now()) return entry.principal;
    this.drop(hash, entry.principal.keyId);
    return undefined;
  }

  /** Caches what a lookup begun at `mark` read, unless something was forgotten since or the key was revoked within a time-to-live. */
  remember(hash: string, principal: Principal, mark: number): void {
    if (!this.enabled || mark !== this.generation) return;
    const now = this.now();
    const until = this.revokedRecently.get(principal.keyId);
    if (until !== undefined) {
      if (until > now) return;
      this.revokedRecently.delete(principal.keyId);
    }
    if (this.byHash.size >= MAX_ENTRIES) {
      const oldest = this.byHash.keys().next().value as string;
      this.drop(oldest, this.byHash.get(oldest)!.principal.keyId);
    }
    this.byHash.set(hash, { principal, expiresAt: now + this.ttlMs });
    this.hashOfKey.set(principal.keyId, hash);
  }

  /** A key was revoked (here or on another replica): its next request asks the database. */
  forget(keyId: string): void {
    this.generation++;
    const hash = this.hashOfKey.get(keyId);
    if (hash !== undefined) this.drop(hash, keyId);
    if (!this.enabled) return;
    const now = this.now();
    this.revokedRecently.set(keyId, now + this.ttlMs);
    // Bounded like the cache: entries past their time are swept whenever one is added.
    if (this.revokedRecently.size > 1_000) for (const [id, until] of this.revokedRecently) if (until <= now) this.revokedRecently.delete(id);
  }

  /** Notices may have been missed (the bus reconnected): every key is asked about again. */
  forgetAll(): void {
    this.generation++;
    this.byHash.clear();
    this.hashOfKey.clear();
  }

  get size(): number {
    return this.byHash.size;
  }

  private drop(hash: string, keyId: string): void {
    this.byHash.delete(hash);
    if (this.hashOfKey.get(keyId) === hash) this.hashOfKey.delete(keyId);
  }
}
