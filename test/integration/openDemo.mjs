// `npm run demo` (after the build): opens RVC Studio on a demo workspace — in desktop VS Code when
// `code` is on PATH (--extensionDevelopmentPath), otherwise in code-server, printing its URL and
// running until Ctrl-C. RVC_DEMO_DIR picks the folder (default: <tmp>/rvc-studio-demo),
// RVC_DEMO_PORT the code-server port.
import { spawn, spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkTools, repoRoot, startCodeServer, workbenchUrl } from './codeServer.mjs';

const demoDir = path.resolve(process.env.RVC_DEMO_DIR ?? path.join(os.tmpdir(), 'rvc-studio-demo'));
const made = spawnSync(process.execPath, [path.join(repoRoot, 'test/integration/makeDemoWorkspace.ts'), demoDir], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (made.status !== 0) {
  console.error('could not make the demo workspace');
  process.exit(1);
}
const workspace = made.stdout.trim().split('\n').pop();
console.log(`demo workspace: ${workspace}`);

const hasCode = spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
if (hasCode && process.env.RVC_DEMO_CODE_SERVER !== '1') {
  const child = spawn('code', ['--new-window', `--extensionDevelopmentPath=${repoRoot}`, workspace], { stdio: 'inherit', detached: true });
  child.unref();
  console.log('opened in VS Code (Extension Development Host): click "RVC Studio" in the activity bar.');
} else {
  const missing = checkTools().filter((m) => m.startsWith('code-server'));
  if (missing.length > 0) {
    console.error(`No \`code\` on PATH and ${missing[0]}`);
    process.exit(1);
  }
  const port = process.env.RVC_DEMO_PORT ? Number(process.env.RVC_DEMO_PORT) : undefined;
  const server = await startCodeServer({ runDir: path.join(demoDir, 'code-server'), smokeTestDriver: false, ...(port ? { port } : {}) });
  console.log(`code-server is running. Open:\n\n  ${workbenchUrl(server.base, workspace, { extensionDevelopmentPath: repoRoot })}\n\nthen click "RVC Studio" in the activity bar. Ctrl-C stops it.`);
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
