// Builds the demo workspace `npm run demo` opens: a copy of the real-RVC fixture imported (when
// ../shared/fixtures is there), and a training on the RVC install TEST DOUBLE so every step can be
// run on any machine in seconds. Prints the workspace folder.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDataset, makeRvcInstall } from '../doubles/rvcInstall/makeRvcInstall.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const root = path.resolve(process.argv[2] ?? '');
if (!process.argv[2]) throw new Error('usage: makeDemoWorkspace.ts <folder to (re)create>');
fs.rmSync(root, { recursive: true, force: true });
fs.mkdirSync(root, { recursive: true });

function cli(workspace: string, ...args: string[]): void {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/main.ts'), '--workspace', workspace, ...args], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`rvc-studio ${args.join(' ')} failed: ${result.stderr}`);
}

const workspace = path.join(root, 'workspace');
fs.mkdirSync(workspace);
const rvc = makeRvcInstall(path.join(root, 'rvc-test-double'), { epochMs: 400 });
const dataset = makeDataset(path.join(workspace, 'datasets', 'alto'), 8);
fs.mkdirSync(path.join(workspace, '.vscode'));
fs.writeFileSync(
  path.join(workspace, '.vscode/settings.json'),
  JSON.stringify(
    {
      'rvcStudio.rvc.root': rvc.root,
      'rvcStudio.rvc.pythonPath': rvc.python,
      'rvcStudio.runner.device': 'cpu',
      'rvcStudio.train.totalEpoch': 10,
      'rvcStudio.train.saveEveryEpoch': 2,
    },
    null,
    2,
  ),
);
cli(workspace, 'training', 'create', 'demo-double', '--dataset', dataset, '--gpu', 'cpu');
const fixture = path.resolve(repoRoot, '../shared/fixtures/rvc-real-a');
if (fs.existsSync(fixture)) {
  const copy = path.join(root, 'rvc-real-a');
  fs.cpSync(fixture, copy, { recursive: true });
  cli(workspace, 'import', copy);
} else {
  console.warn(`note: ${fixture} not found; the demo has only the test-double training.`);
}
console.log(workspace);
