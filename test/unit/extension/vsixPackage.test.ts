// What `npm run package` puts in the linux-x64 VSIX, read with `vsce ls` (the file list `vsce package`
// zips: .vscodeignore applied to the project and its production dependencies) without building a VSIX.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../support/tempDir.ts';

/** The three native files of the linux-x64 target, each with its loader's reason to be there. */
const NATIVES = [
  'node_modules/better-sqlite3/prebuilds/linux-x64.node', // better-sqlite3/lib/binding.js: prebuilds/<platform>-<arch>.node
  'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node', // onnxruntime-node/dist/binding.js
  'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1', // what that binding links against
];

/** Everything allowed under node_modules/: the two natives' JavaScript, licences, manifests, and onnxruntime-common's CommonJS build. */
const NODE_MODULES_ALLOWED = [
  /^node_modules\/better-sqlite3\/(package\.json|LICENSE|lib\/(index|database|binding|util|sqlite-error)\.js|lib\/methods\/[a-z]+\.js)$/,
  /^node_modules\/onnxruntime-node\/(package\.json|dist\/[a-z]+\.js)$/,
  /^node_modules\/onnxruntime-common\/(package\.json|dist\/cjs\/([a-z-]+\.js|package\.json))$/,
];

/**
 * Bytes, uncompressed. Measured with `npm run package` on 0.1.0: 65 files, 49,337,077 bytes (47.1 MiB;
 * the VSIX itself is 18.5 MiB); 48.5 MB of it are the three natives (libonnxruntime.so.1 alone is
 * 45.8 MB), the rest 0.85 MB with production bundles or 1.3 MB with the development build `npm run build`
 * leaves in dist/. The bounds leave room for the bundles to grow; anything a wrong ignore rule brings in
 * breaks them: another platform's onnxruntime library (20–46 MB), better-sqlite3's SQLite sources
 * (deps/, 9.9 MB), source maps (1 MB), the sources or the tests.
 */
const MAX_TOTAL = 50 * 1024 * 1024;
const MAX_WITHOUT_NATIVES = 3 * 1024 * 1024;

let files: string[] = [];

describe('the VSIX (npm run package, linux-x64)', () => {
  before(function () {
    this.timeout(120_000);
    // `vsce ls` lists what exists: a checkout that was never built gets the development build first.
    if (!fs.existsSync(path.join(repoRoot, 'dist/extension.js'))) {
      const built = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: repoRoot, encoding: 'utf8' });
      assert.equal(built.status, 0, `node esbuild.mjs failed: ${built.stderr}`);
    }
    // The same file selection `vsce package --target linux-x64` makes (the target only names the VSIX).
    const listed = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/@vscode/vsce/vsce'), 'ls'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(listed.status, 0, `vsce ls failed: ${listed.stderr}`);
    files = listed.stdout.split('\n').filter((line) => line.trim() !== '');
  });

  it('holds the manifest, README, CHANGELOG and LICENSE', () => {
    for (const file of ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE']) assert.ok(files.includes(file), `${file} is not packaged`);
  });

  it('holds the translations: package.nls*.json for the manifest and l10n/ bundles for the code', () => {
    const nls = fs.readdirSync(repoRoot).filter((f) => /^package\.nls(\.[a-z-]+)?\.json$/.test(f));
    const bundles = fs.readdirSync(path.join(repoRoot, 'l10n')).map((f) => `l10n/${f}`);
    assert.ok(nls.includes('package.nls.json') && nls.length >= 3, `only ${nls.join(', ')}`);
    assert.ok(bundles.length >= 2, `only ${bundles.join(', ')}`);
    for (const file of [...nls, ...bundles]) assert.ok(files.includes(file), `${file} is not packaged`);
  });

  it('holds every dist bundle: extension, CLI, workers, webviews with their CSS, and dist/package.json', () => {
    const bundles = [
      'dist/package.json',
      'dist/extension.js',
      'dist/cli.js',
      'dist/workers/launcherWorker.js',
      'dist/workers/inferenceWorker.js',
      'dist/webviews/metrics.js',
      'dist/webviews/metrics.css',
      'dist/webviews/inference.js',
      'dist/webviews/inference.css',
    ];
    for (const file of bundles) assert.ok(files.includes(file), `${file} is not packaged`);
    const built = fs
      .readdirSync(path.join(repoRoot, 'dist'), { recursive: true, encoding: 'utf8' })
      .map((f) => `dist/${f.split(path.sep).join('/')}`)
      .filter((f) => /\.(js|css)$/.test(f));
    for (const file of built) assert.ok(files.includes(file), `${file} was built but is not packaged`);
    assert.deepEqual(
      files.filter((f) => f.endsWith('.map')),
      [],
      'source maps are packaged',
    );
  });

  it('holds every schema/*.sql migration, the icon and the Python helpers', () => {
    const migrations = fs.readdirSync(path.join(repoRoot, 'schema')).filter((f) => f.endsWith('.sql'));
    assert.ok(migrations.length > 0);
    for (const sql of migrations) assert.ok(files.includes(`schema/${sql}`), `schema/${sql} is not packaged`);
    assert.ok(files.includes('media/rvc-studio.svg'));
    for (const svg of fs.readdirSync(path.join(repoRoot, 'media/walkthrough')).filter((f) => f.endsWith('.svg')))
      assert.ok(files.includes(`media/walkthrough/${svg}`), `media/walkthrough/${svg} is not packaged`);
    for (const py of ['probe_device.py', 'train_index.py'])
      assert.ok(files.includes(`src/core/runner/python/${py}`), `${py} is not packaged`);
  });

  it('carries native files for linux-x64 only', () => {
    const natives = files.filter((f) => /\.(node|dll|dylib|so(\.\d+)*)$/.test(f));
    assert.deepEqual(natives.sort(), [...NATIVES].sort());
  });

  it('carries no sources, tests, configs or lockfiles', () => {
    const leaks = files.filter(
      (f) =>
        /\.(ts|tsx|mts|cts)$/.test(f) ||
        /^(src\/(?!core\/runner\/python\/[a-z_]+\.py$)|test\/|webviews\/|out\/|\.)/.test(f) ||
        /^(tsconfig|eslint|esbuild|package-lock)/.test(f),
    );
    assert.deepEqual(leaks, []);
  });

  it('carries no node_modules but the runtime files of better-sqlite3, onnxruntime-node and onnxruntime-common', () => {
    const extra = files.filter(
      (f) => f.startsWith('node_modules/') && !NATIVES.includes(f) && !NODE_MODULES_ALLOWED.some((re) => re.test(f)),
    );
    assert.deepEqual(extra, []);
    const packages = new Set(files.filter((f) => f.startsWith('node_modules/')).map((f) => f.split('/')[1]));
    assert.deepEqual([...packages].sort(), ['better-sqlite3', 'onnxruntime-common', 'onnxruntime-node']);
    // What each loads at run time is there.
    for (const file of [
      'node_modules/better-sqlite3/lib/index.js',
      'node_modules/onnxruntime-node/dist/index.js',
      'node_modules/onnxruntime-common/dist/cjs/index.js',
    ])
      assert.ok(files.includes(file), `${file} is not packaged`);
  });

  it(`stays under ${MAX_TOTAL / 1024 / 1024} MiB uncompressed, ${MAX_WITHOUT_NATIVES / 1024 / 1024} MiB without the natives`, () => {
    const size = (f: string) => fs.statSync(path.join(repoRoot, f)).size;
    const total = files.reduce((sum, f) => sum + size(f), 0);
    const withoutNatives = files.filter((f) => !NATIVES.includes(f)).reduce((sum, f) => sum + size(f), 0);
    assert.ok(total < MAX_TOTAL, `${total} bytes in ${files.length} files`);
    assert.ok(withoutNatives < MAX_WITHOUT_NATIVES, `${withoutNatives} bytes besides the natives`);
  });
});
