import * as fs from 'node:fs';
import { checkStore } from '../../core/workspace/check.ts';
import { listBackups } from '../../core/store/backups.ts';
import { latestVersion, loadMigrations } from '../../core/store/migrations.ts';
import { restoreBackup, storePathOf } from '../../core/store/store.ts';
import { sqliteVersion } from '../../core/store/sqlite.ts';
import type { CliCommand } from '../command.ts';

export const DB_COMMANDS: CliCommand[] = [
  {
    path: ['db', 'check'],
    usage: '[--repair]',
    summary: 'check the store (SQLite integrity, foreign keys, tasks, folders, artifacts); --repair fixes what it can',
    options: { repair: { type: 'boolean' } },
    async run(ctx, { values }) {
      const report = await checkStore(ctx.openStore(), { repair: values.repair === true, settings: () => ctx.settings() });
      const lines = report.findings.map(
        (f) => `${f.repaired ? 'repaired' : 'problem '}  ${f.kind}: ${f.message}${f.repaired ? ` — ${f.repaired}` : ''}`,
      );
      lines.push(report.findings.length === 0 ? 'ok: no problems found' : `${report.repaired} repaired, ${report.unrepaired} left`);
      return { json: report, text: lines, exitCode: report.unrepaired > 0 ? 1 : 0 };
    },
  },
  {
    path: ['db', 'backup'],
    usage: '',
    summary: 'write a backup to .rvc-studio/backups/ (the newest 5 are kept)',
    run(ctx) {
      const store = ctx.openStore();
      const file = store.backup();
      return { json: { backup: file, size: fs.statSync(file).size }, text: `backup written: ${file}` };
    },
  },
  {
    path: ['db', 'backups'],
    usage: '',
    summary: 'list backups, newest first',
    run(ctx) {
      const backups = listBackups(ctx.openStore().storeDir);
      return {
        json: { backups },
        text: backups.length ? backups.map((b) => `${b.path}  (schema ${b.schemaVersion}, ${b.size} bytes)`) : 'no backups',
      };
    },
  },
  {
    path: ['db', 'restore'],
    usage: 'FILE',
    summary: 'replace the store with a backup (the current one is backed up or set aside first)',
    positionals: { min: 1, max: 1 },
    run(ctx, { positionals }) {
      const result = restoreBackup(ctx.workspaceDir, positionals[0]!);
      return {
        json: result,
        text: `restored ${result.restored}${result.previous ? `; the previous database is kept as ${result.previous}` : ''}`,
      };
    },
  },
  {
    path: ['db', 'version'],
    usage: '',
    summary: 'schema versions of this RVC Studio and of the workspace store',
    run(ctx) {
      const known = latestVersion(loadMigrations());
      const dbPath = storePathOf(ctx.workspaceDir);
      let database: number | null = null;
      if (fs.existsSync(dbPath)) database = ctx.openStore().schemaVersion;
      const sqlite = sqliteVersion();
      return {
        json: { code: known, database, databasePath: dbPath, sqlite, node: process.versions.node },
        text: `schema: code ${known}, database ${database ?? '(none yet)'}; SQLite ${sqlite}; Node ${process.versions.node}`,
      };
    },
  },
];
