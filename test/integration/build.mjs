// Bundles the in-host test suites (one entry per phase) to out/test/<phase>.js. They run inside
// VS Code's extension host, which loads CommonJS; `vscode` comes from the host and mocha from the
// repository's node_modules, so both stay external.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const suiteDir = path.join(repoRoot, 'test/integration/suite');
const outdir = path.join(repoRoot, 'out/test');

const entryPoints = Object.fromEntries(
  fs
    .readdirSync(suiteDir)
    .filter((name) => /^phase[A-Z]\w*\.ts$/.test(name))
    .map((name) => [name.replace(/\.ts$/, ''), path.join(suiteDir, name)]),
);

fs.mkdirSync(outdir, { recursive: true });
fs.writeFileSync(path.join(outdir, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
await esbuild.build({
  entryPoints,
  outdir,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  sourcemap: 'inline',
  external: ['vscode', 'mocha', 'better-sqlite3'],
  banner: { js: 'const __bundleImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__bundleImportMetaUrl' },
  logLevel: 'warning',
});
