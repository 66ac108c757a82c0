// `npm run test:integration`: runs the in-host suites in a real VS Code (code-server) driven by
// headless Chromium, then looks at the sidebar the way a person would (DOM labels + screenshots).
// Prints "N passed, N failed" and exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { checkTools, openBrowser, repoRoot, startCodeServer, tempRoot, workbenchUrl } from './codeServer.mjs';
import { inferencePanelChecks } from './inferencePanelChecks.mjs';
import { keyboardChecks } from './keyboardChecks.mjs';
import { metricsPanelChecks } from './metricsPanelChecks.mjs';
import { sidebarChecks } from './sidebarChecks.mjs';
import { slurmChecks } from './slurmChecks.mjs';
import { vsixChecks } from './vsixChecks.mjs';
import { voiceImportChecks } from './voiceImportChecks.mjs';
import { walkthroughChecks } from './walkthroughChecks.mjs';

const outDir = path.join(repoRoot, 'test-output/integration');
const verbose = process.env.RVC_IT_VERBOSE === '1';
const NOISE =
  /AgentHost|ChatModelSelection|AccountPolicy|open-vsx|ENOTFOUND|vsda|telemetry|Canceled: Canceled|authentication provider|Resolving connection token|Resolved connection token|Creating a socket|reconnection-grace-time|builtin extensions cache|Service Worker/;

const missing = checkTools();
if (missing.length > 0) {
  console.error(`Cannot run the integration tests; missing: ${missing.join('; ')}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

function step(what, command, args) {
  const result = spawnSync(command, args, { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`${what} failed (exit ${result.status})`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });
const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

step('building the extension', process.execPath, ['esbuild.mjs']);
step('building the in-host suites', process.execPath, ['test/integration/build.mjs']);
const root = tempRoot('rvc-it-');
step('preparing the test workspaces', process.execPath, ['test/integration/prepareWorkspaces.ts', root]);
const prepared = JSON.parse(fs.readFileSync(path.join(root, 'prepared.json'), 'utf8'));

// RVC_IT_PHASES=phaseMultiRoot,sidebar runs only those (for working on one phase); RVC_IT_PHASES=vsix the VSIX install.
const only = process.env.RVC_IT_PHASES ? new Set(process.env.RVC_IT_PHASES.split(',')) : undefined;
const wanted = (name) => !only || only.has(name);
const totals = { passed: 0, failed: 0, skipped: 0 };
const results = [];
const metrics = {};

/**
 * Opens the workbench on `folder` with the suite `phase` as extensionTestsPath and waits for it to exit.
 * onLine(line, page): sees each console line of the window (the suite's own included).
 */
async function runPhase(server, phase, folder, { timeoutMs = 180_000, onLine } = {}) {
  const { page, close } = await openBrowser();
  const consoleLog = fs.createWriteStream(path.join(outDir, `${phase}-browser-console.log`));
  page.on('console', (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
  let result;
  let resolveExit;
  const exited = new Promise((resolve) => (resolveExit = resolve));
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const line = format(...(args ?? []));
    const match = /phase-result (\{.*\})/.exec(line);
    if (match) result = JSON.parse(match[1]);
    const measured = /^metric (\S+) (\S+) (\S+)$/.exec(line);
    if (measured) metrics[measured[1]] = `${measured[2]} ${measured[3]}`;
    onLine?.(line, page);
    if (verbose || !NOISE.test(line)) console.log(`  [${phase}] ${line}`);
  });
  await page.exposeFunction('codeAutomationExit', (code, logs) => {
    if (Array.isArray(logs)) {
      for (const entry of logs) {
        try {
          fs.writeFileSync(path.join(outDir, `${phase}-${path.basename(entry.relativePath || 'log.txt')}`), entry.contents);
        } catch {
          // a log we cannot write is not worth failing the run for
        }
      }
    }
    resolveExit(code);
  });
  const url = workbenchUrl(server.base, folder, {
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: path.join(repoRoot, `out/test/${phase}.js`),
  });
  console.log(`phase ${phase}: ${folder} (${elapsed()})`);
  await page.goto(url);
  const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), timeoutMs))]);
  await close();
  if (!result) result = { phase, passed: 0, failed: 1, skipped: 0, note: `no result (exit ${code})` };
  else if (code !== 0 && result.failed === 0) result = { ...result, failed: 1, note: `extension host exit ${code}` };
  record(result);
}

function record(result) {
  results.push(result);
  totals.passed += result.passed;
  totals.failed += result.failed;
  totals.skipped += result.skipped ?? 0;
  console.log(
    `phase ${result.phase}: ${result.passed} passed, ${result.failed} failed${result.note ? ` (${result.note})` : ''} (${elapsed()})`,
  );
}

let exitCode = 0;
const servers = [];
try {
  const trusted = await startCodeServer({ runDir: path.join(root, 'cs-trusted'), settings: prepared.userSettings ?? {} });
  servers.push(trusted);
  console.log(`code-server up at ${trusted.base} (${elapsed()})`);
  for (const phase of prepared.trustedPhases.filter((p) => wanted(p.name))) await runPhase(trusted, phase.name, phase.folder);
  if (prepared.sidebar && wanted('sidebar')) {
    record(
      await sidebarChecks({
        server: trusted,
        folder: prepared.sidebar.folder,
        outDir,
        expect: prepared.sidebar.expect,
        expand: prepared.sidebar.expand,
      }),
    );
  }
  if (prepared.sidebar && wanted('keyboard')) {
    const { dataset } = JSON.parse(fs.readFileSync(path.join(root, 'context.json'), 'utf8'));
    record(await keyboardChecks({ server: trusted, folder: prepared.sidebar.folder, outDir, name: 'keyboard-voice', dataset }));
  }
  if (prepared.sidebar && wanted('metricsPanel')) {
    // The imported copy of rvc-real-a is training "alto-demo" in the sidebar's folder (null: fixtures absent, skipped loudly).
    const { fixtureCopy } = JSON.parse(fs.readFileSync(path.join(root, 'context.json'), 'utf8'));
    if (!wanted('phaseTrusted'))
      console.warn('metricsPanel: phaseTrusted is not selected, and it is what imports alto-demo; expect the check to fail.');
    const checked = await metricsPanelChecks({
      server: trusted,
      folder: prepared.sidebar.folder,
      outDir,
      training: 'alto-demo',
      fixtureDir: fixtureCopy,
    });
    // Cold: the first webview of a fresh browser profile (VS Code's webview bootstrap included); warm: reopened.
    if (checked.chartsMs !== undefined) metrics.metricsPanelChartsLoaded = `${checked.chartsMs} ms`;
    if (checked.reopenChartsMs !== undefined) metrics.metricsPanelReopenChartsLoaded = `${checked.reopenChartsMs} ms`;
    record(checked);
  }
  if (wanted('inferencePanel')) {
    if (prepared.inference && !wanted('phaseTrusted'))
      console.warn('inferencePanel: phaseTrusted is not selected, and it is what imports alto-demo (the model); expect the check to fail.');
    const checked = await inferencePanelChecks({ server: trusted, outDir, inference: prepared.inference });
    // One conversion of a 3 s input, measured from the Convert click to the rendered result.
    if (checked.clickToResultMs !== undefined) metrics.inferencePanelClickToResult = `${checked.clickToResultMs} ms`;
    record(checked);
  }
  if (wanted('voiceImport')) {
    // Its own folder (ws-voices): the voice zip added, ContentVec downloaded from a loopback mirror, one conversion.
    record(await voiceImportChecks({ server: trusted, outDir, voices: prepared.voices }));
  }
  await trusted.stop();

  for (const phase of (prepared.isolatedPhases ?? []).filter((p) => wanted(p.name))) {
    const isolated = await startCodeServer({ runDir: path.join(root, `cs-${phase.name}`), settings: prepared.userSettings ?? {} });
    servers.push(isolated);
    await runPhase(isolated, phase.name, phase.folder);
    await isolated.stop();
  }

  if (prepared.walkthrough && wanted('walkthrough')) {
    const fresh = await startCodeServer({ runDir: path.join(root, 'cs-walkthrough'), settings: prepared.userSettings ?? {} });
    servers.push(fresh);
    record(await walkthroughChecks({ server: fresh, folder: prepared.walkthrough.folder, outDir }));
    await fresh.stop();
  }

  if (prepared.untrustedPhases?.some((p) => wanted(p.name))) {
    const untrusted = await startCodeServer({
      runDir: path.join(root, 'cs-untrusted'),
      trust: false,
      settings: {
        'security.workspace.trust.startupPrompt': 'never',
        'security.workspace.trust.banner': 'never',
        'security.workspace.trust.emptyWindow': false,
      },
    });
    servers.push(untrusted);
    for (const phase of prepared.untrustedPhases.filter((p) => wanted(p.name))) await runPhase(untrusted, phase.name, phase.folder);
    await untrusted.stop();
  }

  if (prepared.slurm && wanted('slurm')) {
    // A real single-node Slurm started for the phase, and a code-server whose extension host sees its
    // SLURM_CONF; then the same folder again (a window reload) while a job runs. Skipped loudly
    // without root or slurm-wlm.
    const checked = await slurmChecks({
      slurm: prepared.slurm,
      outDir,
      startServer: async (env) => {
        const server = await startCodeServer({ runDir: path.join(root, 'cs-slurm'), settings: prepared.userSettings ?? {}, env });
        servers.push(server);
        return server;
      },
      runPhase: (server, phase, onLine) => runPhase(server, phase, prepared.slurm.folder, { timeoutMs: 240_000, onLine }),
    });
    Object.assign(metrics, checked.metrics);
    for (const result of checked.results) record(result);
  }

  // Last: it packages the extension (a production build of dist/) and runs its own code-servers.
  if (wanted('vsix')) {
    const checked = await vsixChecks({ root, outDir });
    if (checked.vsixBytes !== undefined) metrics.vsixSize = `${(checked.vsixBytes / 1024 / 1024).toFixed(2)} MiB`;
    metrics.vsixPhase = `${checked.seconds} s`;
    record(checked);
  }
} catch (error) {
  console.error('integration run failed:', error);
  exitCode = 1;
  totals.failed += 1;
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  if (prepared.cleanup) spawnSync(process.execPath, prepared.cleanup, { cwd: repoRoot, stdio: 'inherit' });
  if (process.env.RVC_IT_KEEP !== '1') fs.rmSync(root, { recursive: true, force: true });
}
fs.writeFileSync(
  path.join(outDir, 'results.json'),
  JSON.stringify({ totals, results, metrics, seconds: (Date.now() - t0) / 1000 }, null, 2),
);
if (totals.failed > 0) exitCode = 1;
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(exitCode);
