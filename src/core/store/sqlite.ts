import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { msg, UserError } from '../util/errors.ts';

export type Database = BetterSqlite3.Database;

const MIN_NAPI = 10;

let constructorCache: typeof BetterSqlite3 | undefined;

/**
 * Loads better-sqlite3 only after checking Node-API 10 is there: on older Node (20, 22.13) its
 * binary does not throw, it segfaults the process on first use.
 */
export function sqlite(): typeof BetterSqlite3 {
  if (constructorCache) return constructorCache;
  const napi = Number(process.versions.napi ?? 0);
  if (!(napi >= MIN_NAPI)) {
    throw new UserError(
      msg`RVC Studio needs Node.js 22.14 or newer (Node-API ${MIN_NAPI}); this is Node ${process.version} with Node-API ${napi}. Run it through npm scripts (they use the bundled Node 24) or update VS Code to 1.101 or newer.`,
      'node-too-old',
    );
  }
  const require = createRequire(import.meta.url);
  constructorCache = require('better-sqlite3') as typeof BetterSqlite3;
  return constructorCache;
}

/** The SQLite library's version (what `db version` reports). */
export function sqliteVersion(): string {
  const db = new (sqlite())(':memory:');
  try {
    return (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}
