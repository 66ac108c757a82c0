// `npm run demo` (after `npm run package`): installs the VSIX and opens RVC Studio on a demo workspace,
// the way a user gets it. In desktop VS Code when `code` is on PATH (`code --install-extension`),
// otherwise in code-server (installed into the demo's own code-server profile), printing its URL and
// running until Ctrl-C. RVC_DEMO_DIR picks the folder (default: <tmp>/rvc-studio-demo), RVC_DEMO_PORT
// the code-server port, RVC_DEMO_CODE_SERVER=1 skips desktop VS Code. RVC_DEMO_CHECK=1 (code-server
// only) opens the printed URL in headless Chromium, waits for the RVC Studio activity-bar item and
// exits: 0 when it is there (the integration phase "vsix" runs the demo this way).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  checkTools,
  installVsix,
  openBrowser,
  repoRoot,
  startCodeServer,
  vsixFile,
  waitForRvcStudio,
  workbenchUrl,
} from './codeServer.mjs';

const check = process.env.RVC_DEMO_CHECK === '1';
const vsix = vsixFile();
if (!fs.existsSync(vsix)) {
  console.error(`${vsix} is missing: run npm run package (npm run demo does).`);
  process.exit(1);
}
const demoDir = path.resolve(process.env.RVC_DEMO_DIR ?? path.join(os.tmpdir(), 'rvc-studio-demo'));
const made = spawnSync(process.execPath, [path.join(repoRoot, 'test/integration/makeDemoWorkspace.ts'), demoDir], {
  cwd: repoRoot,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
if (made.status !== 0) {
  console.error('could not make the demo workspace');
  process.exit(1);
}
const workspace = made.stdout.trim().split('\n').pop();
console.log(`demo workspace: ${workspace}`);

const hasCode = spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
if (hasCode && !check && process.env.RVC_DEMO_CODE_SERVER !== '1') {
  const installed = spawnSync('code', ['--install-extension', vsix, '--force'], { stdio: 'inherit' });
  if (installed.status !== 0) {
    console.error(`code --install-extension ${vsix} failed`);
    process.exit(1);
  }
  const child = spawn('code', ['--new-window', workspace], { stdio: 'inherit', detached: true });
  child.unref();
  console.log(`installed ${path.basename(vsix)} into VS Code and opened the demo: click "RVC Studio" in the activity bar.`);
} else {
  const missing = checkTools().filter((m) => m.startsWith('code-server') || (check && m.startsWith('Chromium')));
  if (missing.length > 0) {
    console.error(`No \`code\` on PATH and ${missing[0]}`);
    process.exit(1);
  }
  // A fresh profile each time: makeDemoWorkspace.ts recreated demoDir above.
  const runDir = path.join(demoDir, 'code-server');
  fs.mkdirSync(runDir, { recursive: true });
  const extensionDir = installVsix({ runDir, vsix });
  console.log(`demo: installed ${path.basename(vsix)} into ${extensionDir}`);
  const port = process.env.RVC_DEMO_PORT ? Number(process.env.RVC_DEMO_PORT) : undefined;
  // As a user runs it: no smoke-test driver, no extensionDevelopmentPath; the installed VSIX is what loads.
  const server = await startCodeServer({ runDir, smokeTestDriver: false, ...(port ? { port } : {}) });
  const url = workbenchUrl(server.base, workspace);
  if (check) {
    const { page, close } = await openBrowser('rvc-demo-browser-');
    let ok = false;
    try {
      await page.goto(url);
      await waitForRvcStudio(page, 90_000);
      ok = true;
      console.log(`demo check: RVC Studio is in the workbench at ${url}`);
    } catch (error) {
      console.error(
        `demo check: no RVC Studio in the workbench at ${url}: ${error.message.split('\n')[0]} (see ${path.join(runDir, 'code-server.log')})`,
      );
    } finally {
      await close();
      await server.stop();
    }
    process.exit(ok ? 0 : 1);
  }
  console.log(`code-server is running. Open:\n\n  ${url}\n\nthen click "RVC Studio" in the activity bar. Ctrl-C stops it.`);
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  server.child.on('exit', (code) => {
    console.log(`code-server exited (${code})`);
    process.exit(code ?? 1);
  });
}
