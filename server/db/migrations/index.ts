import { Migration20261129000000Initial } from "./Migration20261129000000Initial";
import { Migration20261129100000RestIdempotency } from "./Migration20261129100000RestIdempotency";
import { Migration20261129110000LiveUpdates } from "./Migration20261129110000LiveUpdates";
import { Migration20261129130000ChainSettlement } from "./Migration20261129130000ChainSettlement";
import { Migration20261129130100ChainInstances } from "./Migration20261129130100ChainInstances";
import { Migration20261130000000TaskEventKind } from "./Migration20261130000000TaskEventKind";
import { Migration20261130010000KycApplicants } from "./Migration20261130010000KycApplicants";
import { Migration20261130020000Deployment } from "./Migration20261130020000Deployment";
import { Migration20261202010000OperatorTasks } from "./Migration20261202010000OperatorTasks";
import { Migration20261202030000ChainBindings } from "./Migration20261202030000ChainBindings";
import { Migration20261202040000PhotoStore } from "./Migration20261202040000PhotoStore";
import { Migration20261202050000GuardianChecks } from "./Migration20261202050000GuardianChecks";
import { Migration20261202060000CaptureCode } from "./Migration20261202060000CaptureCode";
import { Migration20261202060100PhotoWindowHashes } from "./Migration20261202060100PhotoWindowHashes";
import { Migration20261202070000WebhookSignatureSchemes } from "./Migration20261202070000WebhookSignatureSchemes";
import { Migration20261202080000BrowserSessions } from "./Migration20261202080000BrowserSessions";
import { Migration20261202100000TaskFundedAt } from "./Migration20261202100000TaskFundedAt";
import { Migration20261202110000PhotoHashVersion } from "./Migration20261202110000PhotoHashVersion";
import { Migration20261202170000AcceptWindow } from "./Migration20261202170000AcceptWindow";
import { Migration20261203030000TaskChanges } from "./Migration20261203030000TaskChanges";

/** Checked-in migrations, in order. Listed explicitly so the build needs no folder scan. */
export const MIGRATIONS = [
  { name: "Migration20261129000000Initial", class: Migration20261129000000Initial },
  { name: "Migration20261129100000RestIdempotency", class: Migration20261129100000RestIdempotency },
  { name: "Migration20261129110000LiveUpdates", class: Migration20261129110000LiveUpdates },
  { name: "Migration20261129130000ChainSettlement", class: Migration20261129130000ChainSettlement },
  { name: "Migration20261129130100ChainInstances", class: Migration20261129130100ChainInstances },
  { name: "Migration20261130000000TaskEventKind", class: Migration20261130000000TaskEventKind },
  { name: "Migration20261130010000KycApplicants", class: Migration20261130010000KycApplicants },
  { name: "Migration20261130020000Deployment", class: Migration20261130020000Deployment },
  { name: "Migration20261202010000OperatorTasks", class: Migration20261202010000OperatorTasks },
  { name: "Migration20261202030000ChainBindings", class: Migration20261202030000ChainBindings },
  { name: "Migration20261202040000PhotoStore", class: Migration20261202040000PhotoStore },
  { name: "Migration20261202050000GuardianChecks", class: Migration20261202050000GuardianChecks },
  { name: "Migration20261202060000CaptureCode", class: Migration20261202060000CaptureCode },
  { name: "Migration20261202060100PhotoWindowHashes", class: Migration20261202060100PhotoWindowHashes },
  { name: "Migration20261202070000WebhookSignatureSchemes", class: Migration20261202070000WebhookSignatureSchemes },
  { name: "Migration20261202080000BrowserSessions", class: Migration20261202080000BrowserSessions },
  { name: "Migration20261202100000TaskFundedAt", class: Migration20261202100000TaskFundedAt },
  { name: "Migration20261202110000PhotoHashVersion", class: Migration20261202110000PhotoHashVersion },
  { name: "Migration20261202170000AcceptWindow", class: Migration20261202170000AcceptWindow },
  { name: "Migration20261203030000TaskChanges", class: Migration20261203030000TaskChanges },
];
