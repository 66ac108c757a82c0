// Builds the folders the integration phases open (run with Node 24 before code-server starts):
// an RVC install TEST DOUBLE, a dataset, and workspaces whose settings point at them.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const root = path.resolve(process.argv[2] ?? '');
if (!process.argv[2] || !fs.existsSync(root)) throw new Error('usage: prepareWorkspaces.ts <existing temp folder>');

function cli(workspace: string, ...args: string[]): string {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/main.ts'), '--workspace', workspace, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`rvc-studio ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

const trusted = path.join(root, 'ws-trusted');
fs.mkdirSync(trusted, { recursive: true });
cli(trusted, 'init');

const prepared = {
  trustedPhases: [{ name: 'phaseTrusted', folder: trusted }],
};
fs.writeFileSync(path.join(root, 'prepared.json'), JSON.stringify(prepared, null, 2));
