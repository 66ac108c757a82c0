// `npm run test:desktop`: the same in-host suites in a desktop VS Code, through @vscode/test-electron
// (it downloads VS Code, so it needs a normal machine with internet; CI here uses runInCodeServer.mjs).
// Runs the trusted, reload and multi-root phases; prints "N passed, N failed".
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, tempRoot } from './codeServer.mjs';

const { runTests } = await import('@vscode/test-electron');

function step(what, args) {
  const result = spawnSync(process.execPath, args, { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status})`);
}

step('building the extension', ['esbuild.mjs']);
step('building the in-host suites', ['test/integration/build.mjs']);
const root = tempRoot('rvc-desktop-');
step('preparing the test workspaces', ['test/integration/prepareWorkspaces.ts', root]);
const prepared = JSON.parse(fs.readFileSync(path.join(root, 'prepared.json'), 'utf8'));
const userDataDir = path.join(root, 'user-data');
fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
fs.writeFileSync(
  path.join(userDataDir, 'User/settings.json'),
  JSON.stringify({ ...prepared.userSettings, 'security.workspace.trust.enabled': false }, null, 2),
);

let passed = 0;
let failed = 0;
for (const phase of prepared.trustedPhases) {
  try {
    await runTests({
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: path.join(repoRoot, 'out/test', `${phase.name}.js`),
      launchArgs: [phase.folder, '--user-data-dir', userDataDir, '--disable-extensions', '--disable-workspace-trust'],
    });
    passed += 1;
    console.log(`phase ${phase.name}: ok`);
  } catch (error) {
    failed += 1;
    console.error(`phase ${phase.name} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
if (prepared.cleanup) spawnSync(process.execPath, prepared.cleanup, { cwd: repoRoot, stdio: 'inherit' });
fs.rmSync(root, { recursive: true, force: true });
// Counted per phase here (test-electron reports only the exit code); each phase's own mocha
// output above lists its tests.
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
