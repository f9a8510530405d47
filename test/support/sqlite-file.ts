/** Direct access to a SQLite database file, for tests that inspect or age what a server left behind. */
interface Statement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
}

export interface SqliteFile {
  prepare(sql: string): Statement;
  close(): void;
}

// better-sqlite3 ships no types and @types/better-sqlite3 is not a dependency: this is the slice the tests use.
const Database = require("better-sqlite3") as new (path: string, options?: { readonly?: boolean }) => SqliteFile;

export function openSqliteFile(path: string, options: { readonly?: boolean } = {}): SqliteFile {
  return new Database(path, options);
}
