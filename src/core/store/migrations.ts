import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../util/packageRoot.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

export function defaultSchemaDir(): string {
  return path.join(packageRoot(), 'schema');
}

/** Reads schema/NNNN_name.sql in order and insists the numbers run 1, 2, 3 … without gaps. */
export function loadMigrations(schemaDir: string = defaultSchemaDir()): Migration[] {
  const migrations = fs
    .readdirSync(schemaDir)
    .filter((file) => MIGRATION_FILE.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file,
      sql: fs.readFileSync(path.join(schemaDir, file), 'utf8'),
    }));
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`Schema migrations must be numbered 0001, 0002, … without gaps; found ${migration.name} at position ${index + 1}.`);
    }
  });
  return migrations;
}

export function latestVersion(migrations: Migration[]): number {
  return migrations.at(-1)?.version ?? 0;
}
