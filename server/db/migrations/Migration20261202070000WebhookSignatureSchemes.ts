import { DialectMigration } from "./dialect-migration";

/**
 * Standard Webhooks signatures and secret rotation. Every endpoint gets a
 * signature scheme; those that exist already keep LEGACY (HumanOps-Signature,
 * the column's default) so their receivers go on verifying until the agent
 * rotates the secret, while new endpoints are created STANDARD. A rotation
 * keeps the replaced secret (sealed, like the current one), its fingerprint,
 * its scheme and when it stops signing.
 */
const SQLITE = [
  "alter table `webhook_endpoints` add column `signature_scheme` text check (`signature_scheme` in ('STANDARD', 'LEGACY')) not null default 'LEGACY';",
  "alter table `webhook_endpoints` add column `previous_sealed_secret` text null;",
  "alter table `webhook_endpoints` add column `previous_fingerprint` text null;",
  "alter table `webhook_endpoints` add column `previous_scheme` text check (`previous_scheme` in ('STANDARD', 'LEGACY')) null;",
  "alter table `webhook_endpoints` add column `previous_expires_at` datetime null;",
];

const POSTGRESQL = [
  `alter table "webhook_endpoints" add column "signature_scheme" text check ("signature_scheme" in ('STANDARD', 'LEGACY')) not null default 'LEGACY', add column "previous_sealed_secret" text null, add column "previous_fingerprint" varchar(16) null, add column "previous_scheme" text check ("previous_scheme" in ('STANDARD', 'LEGACY')) null, add column "previous_expires_at" timestamptz null;`,
];

export class Migration20261202070000WebhookSignatureSchemes extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
