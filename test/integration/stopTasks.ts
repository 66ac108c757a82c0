// Cancels every task still queued or running in a workspace (the integration run's clean-up).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const workspace = process.argv[2];
if (!workspace) throw new Error('usage: stopTasks.ts <workspace>');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/main.ts'), '--workspace', workspace, '--json', ...args], { encoding: 'utf8' });
const listed = JSON.parse(cli('task', 'list').stdout || '{"tasks":[]}') as { tasks?: { id: string; status: string }[] };
for (const task of listed.tasks ?? []) {
  if (task.status === 'running' || task.status === 'queued') cli('task', 'cancel', task.id);
}
