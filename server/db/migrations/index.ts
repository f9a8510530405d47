import { Migration20261129000000Initial } from "./Migration20261129000000Initial";

/** Checked-in migrations, in order. Listed explicitly so the build needs no folder scan. */
export const MIGRATIONS = [{ name: "Migration20261129000000Initial", class: Migration20261129000000Initial }];
