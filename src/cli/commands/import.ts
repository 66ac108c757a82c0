import { importRvc } from '../../core/import/rvcImporter.ts';
import type { CliCommand } from '../command.ts';

export const IMPORT_COMMANDS: CliCommand[] = [
  {
    path: ['import'],
    usage: 'RVC_ROOT [--training NAME]',
    summary: 'take in the experiments of an RVC install (or a logs folder) as trainings; files stay where they are',
    positionals: { min: 1, max: 1 },
    options: { training: { type: 'string' } },
    async run(ctx, { positionals, values }) {
      const report = await importRvc(
        ctx.openStore(),
        positionals[0]!,
        typeof values.training === 'string' ? { training: values.training } : {},
      );
      const lines = report.trainings.map(
        (t) =>
          `${t.action.padEnd(9)} ${t.name}  ${t.status}  ${t.artifacts.total} files (+${t.artifacts.added.length}${
            t.artifacts.missing.length ? `, ${t.artifacts.missing.length} missing` : ''
          }), ${t.newPoints} new metric points`,
      );
      for (const t of report.trainings) for (const missing of t.artifacts.missing) lines.push(`  missing: ${missing}`);
      for (const s of report.skipped) lines.push(`skipped   ${s.name}: ${s.reason}`);
      return { json: report, text: lines };
    },
  },
];
