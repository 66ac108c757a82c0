import type { CliCommand } from '../command.ts';

export const INIT_COMMANDS: CliCommand[] = [
  {
    path: ['init'],
    usage: '',
    summary: 'create (or migrate) the workspace store .rvc-studio/studio.db',
    run(ctx) {
      const store = ctx.openStore();
      return {
        json: { workspace: store.workspaceDir, database: store.dbPath, schemaVersion: store.schemaVersion },
        text: `RVC Studio store ready: ${store.dbPath} (schema ${store.schemaVersion})`,
      };
    },
  },
];
