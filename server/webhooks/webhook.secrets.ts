import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";

const SEALED_PREFIX = "v1.";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A new signing secret in the Standard Webhooks form: `whsec_` and the base64 of 32 random bytes (the HMAC key). */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/**
 * Keeps webhook signing secrets sealed at rest (AES-256-GCM). HumanOps must
 * be able to sign with a secret, so it cannot store only a hash as it does
 * for API keys; sealing under a key derived from the server pepper means a
 * copy of the database alone yields no usable secret.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(pepper: string) {
    this.key = Buffer.from(hkdfSync("sha256", pepper, "humanops", "webhook signing secrets", 32));
  }

  /** The sealed secret and its fingerprint (12 hex digits of its SHA-256), which tells secrets apart without revealing any of one. */
  sealWithFingerprint(secret: string): { sealedSecret: string; secretFingerprint: string } {
    return { sealedSecret: this.seal(secret), secretFingerprint: createHash("sha256").update(secret).digest("hex").slice(0, 12) };
  }

  seal(secret: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64url");
  }

  open(sealed: string): string {
    if (!sealed.startsWith(SEALED_PREFIX)) throw new Error("unknown sealed secret format");
    const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), "base64url");
    const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
  }
}
