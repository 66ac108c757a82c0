// One build script, one bundle per target: the extension host, the CLI, workers (Node) and each
// webview (browser). Type checking is `npm run typecheck`; esbuild only strips types.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const outdir = 'dist';

// Native addons cannot be bundled; they ship in node_modules. `vscode` is provided by the host.
const external = ['vscode', 'better-sqlite3', 'onnxruntime-node'];

// Sources use import.meta.url (they also run unbundled as ES modules under mocha); in a CommonJS
// bundle it must be the bundle file's own URL.
const importMetaUrlShim = {
  banner: { js: 'const __bundleImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__bundleImportMetaUrl' },
};

/** Workers live beside the code they serve; each is its own entry named *Worker.ts. */
function workerEntries() {
  const found = {};
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/Worker\.ts$/.test(entry.name)) found[`workers/${entry.name.replace(/\.ts$/, '')}`] = full;
    }
  };
  walk('src');
  return found;
}

function webviewEntries() {
  const found = {};
  if (!fs.existsSync('webviews')) return found;
  for (const entry of fs.readdirSync('webviews', { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'shared') continue;
    for (const candidate of ['main.tsx', 'main.ts']) {
      const file = path.join('webviews', entry.name, candidate);
      if (fs.existsSync(file)) found[`webviews/${entry.name}`] = file;
    }
  }
  return found;
}

/** Prints errors in the form VS Code's $esbuild-watch problem matcher understands. */
const problemMatcher = {
  name: 'problem-matcher',
  setup(build) {
    build.onStart(() => {
      if (watch) console.log('[watch] build started');
    });
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      if (watch) console.log('[watch] build finished');
    });
  },
};

const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'warning',
  plugins: [problemMatcher],
};

const nodeEntries = { extension: 'src/extension.ts', cli: 'src/cli/main.ts', ...workerEntries() };
const builds = [
  {
    ...common,
    ...importMetaUrlShim,
    entryPoints: nodeEntries,
    outdir,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    // jsonc-parser's "main" is a UMD build whose dynamic requires esbuild cannot follow.
    mainFields: ['module', 'main'],
    external,
  },
];
const webviews = webviewEntries();
if (Object.keys(webviews).length > 0) {
  builds.push({
    ...common,
    entryPoints: webviews,
    outdir,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    loader: { '.css': 'css', '.ttf': 'file', '.woff2': 'file' },
  });
}

fs.mkdirSync(outdir, { recursive: true });
// The package is "type": "module" (sources run as ES modules in tests); the bundles are CommonJS.
fs.writeFileSync(path.join(outdir, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');

const contexts = await Promise.all(builds.map((options) => esbuild.context(options)));
if (watch) {
  await Promise.all(contexts.map((ctx) => ctx.watch()));
} else {
  await Promise.all(contexts.map((ctx) => ctx.rebuild()));
  await Promise.all(contexts.map((ctx) => ctx.dispose()));
  const cli = path.join(outdir, 'cli.js');
  const body = fs.readFileSync(cli, 'utf8');
  if (!body.startsWith('#!')) fs.writeFileSync(cli, '#!/usr/bin/env node\n' + body);
  fs.chmodSync(cli, 0o755);
}
