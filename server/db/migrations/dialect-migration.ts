import { Migration } from "@mikro-orm/migrations";
import { dialectOf, type Dialect } from "../dialect";

/**
 * A checked-in migration with its statements for each dialect (from
 * `npm run migration:sql`); `up` applies the ones for the database at hand.
 */
export abstract class DialectMigration extends Migration {
  protected abstract readonly statements: Record<Dialect, readonly string[]>;

  override async up(): Promise<void> {
    for (const sql of this.statements[dialectOf(this.driver.getPlatform())]) this.addSql(sql);
  }
}
