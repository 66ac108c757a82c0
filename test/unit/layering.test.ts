/**
 * The floors of src/core, lowest first. A file imports files of its own folder and of folders on
 * lower floors, never a folder on its own floor (peers stay independent) or above, and no import
 * cycle exists, between folders or between files.
 *
 *   1. util/       helpers that know nothing of RVC Studio's data: errors, paths, time, hashes, downloads
 *   2. *.ts        the root's shared contracts: events.ts (the store → UI event bus and its payloads),
 *                  settings.ts (the settings' shape, defaults and reader); they import only util
 *   3. store/      the ground floor of the data: SQLite, migrations, repositories, the column
 *                  vocabularies (store/vocabulary.ts) and the shape of a check finding (store/finding.ts)
 *   4. metrics/    training metrics: readers, ingest, queries
 *      models/     checkpoints, ONNX export and its cache, the model registry
 *   5. inference/  the conversion pipeline, its worker, and the aux models it runs (ContentVec, RMVPE)
 *   6. runner/     task engines, queue, processes, Slurm
 *      import/     importing RVC installs and logs folders
 *   7. workspace/  what asks several floors at once: `db check`
 *
 * Around src/core: src/core never imports src/protocol, src/cli or src/extension (one named
 * exception: inference uses its own worker channel's contract); src/protocol imports only itself and,
 * type-only, src/core; webviews/ imports only webviews/ and src/protocol; src/cli and src/extension
 * never import each other. Packages are not judged here, except vscode: only src/extension imports it.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cyclesOf, importGraph, sourceFiles, specifiersOf, type ImportEdge } from '../support/importGraph.ts';
import { repoRoot } from '../support/tempDir.ts';

const CORE_FLOORS: readonly (readonly string[])[] = [
  ['util'],
  ['(root)'],
  ['store'],
  ['metrics', 'models'],
  ['inference'],
  ['runner', 'import'],
  ['workspace'],
];

/**
 * The inference host (inferenceEngine.ts) and its worker (inferenceWorker.ts) both live in
 * src/core/inference; the contract between them, and the request/reply helper it shares with the
 * panels, sits in src/protocol beside the panels' contracts, which reuse its ConvertParams.
 */
const CORE_PROTOCOL_EXCEPTION = {
  from: 'src/core/inference/',
  to: ['src/protocol/inferenceWorkerProtocol.ts', 'src/protocol/messageHandler.ts'],
};

const IMPORTS_VSCODE = /(?:from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\)|import\s+['"]vscode['"])/;

/** `src/core/runner/slurm/x.ts` → `runner`; a file directly in src/core → `(root)`. */
function coreFolderOf(file: string): string {
  const parts = path.relative('src/core', file).split(path.sep);
  return parts.length === 1 ? '(root)' : parts[0]!;
}

function isUnder(file: string, folder: string): boolean {
  return file === folder || file.startsWith(`${folder}/`);
}

/** Core imports that go sideways or up the floors, or touch a folder no floor names. */
function floorViolations(edges: readonly ImportEdge[], floors: readonly (readonly string[])[]): string[] {
  const floorOf = new Map(floors.flatMap((folders, floor) => folders.map((folder) => [folder, floor] as const)));
  const violations: string[] = [];
  for (const { from, to } of edges) {
    if (!isUnder(from, 'src/core') || !isUnder(to, 'src/core')) continue;
    const [a, b] = [coreFolderOf(from), coreFolderOf(to)];
    const [floorA, floorB] = [floorOf.get(a), floorOf.get(b)];
    if (floorA === undefined || floorB === undefined) violations.push(`${from} -> ${to}: ${floorA === undefined ? a : b}/ is on no floor`);
    else if (a !== b && floorB >= floorA)
      violations.push(`${from} -> ${to}: ${a} (floor ${floorA + 1}) may not import ${b} (floor ${floorB + 1})`);
  }
  return violations;
}

/** Folder-level edges of src/core, each once. */
function coreFolderEdges(edges: readonly ImportEdge[]): { from: string; to: string }[] {
  const pairs = new Set<string>();
  for (const { from, to } of edges) {
    if (!isUnder(from, 'src/core') || !isUnder(to, 'src/core')) continue;
    const [a, b] = [coreFolderOf(from), coreFolderOf(to)];
    if (a !== b) pairs.add(`${a}\n${b}`);
  }
  return [...pairs].map((pair) => {
    const [from, to] = pair.split('\n') as [string, string];
    return { from, to };
  });
}

interface AreaRule {
  area: string;
  /** Where the area's files may import project files from; `typeOnly` ones only with `import type`. */
  may: readonly { folder: string; typeOnly?: true }[];
  except?: (edge: ImportEdge) => boolean;
}

const AREA_RULES: readonly AreaRule[] = [
  {
    area: 'src/core',
    may: [{ folder: 'src/core' }],
    except: ({ from, to }) => from.startsWith(CORE_PROTOCOL_EXCEPTION.from) && CORE_PROTOCOL_EXCEPTION.to.includes(to),
  },
  { area: 'src/protocol', may: [{ folder: 'src/protocol' }, { folder: 'src/core', typeOnly: true }] },
  { area: 'webviews', may: [{ folder: 'webviews' }, { folder: 'src/protocol' }] },
  { area: 'src/cli', may: [{ folder: 'src/cli' }, { folder: 'src/core' }, { folder: 'src/protocol' }] },
  { area: 'src/extension', may: [{ folder: 'src/extension' }, { folder: 'src/core' }, { folder: 'src/protocol' }] },
  { area: 'src/extension.ts', may: [{ folder: 'src/extension' }] },
];

/** Imports of project files that an area's rule does not allow; packages are not judged. */
function areaViolations(edges: readonly ImportEdge[], rules: readonly AreaRule[]): string[] {
  const violations: string[] = [];
  for (const edge of edges) {
    const rule = rules.find((r) => isUnder(edge.from, r.area));
    if (!rule || edge.package) continue;
    const allowed = rule.may.some((m) => isUnder(edge.to, m.folder) && (!m.typeOnly || edge.typeOnly)) || rule.except?.(edge);
    if (!allowed) violations.push(`${edge.from} -> ${edge.to}${edge.typeOnly ? ' (type)' : ''}`);
  }
  return violations;
}

describe('layering', () => {
  const edges = importGraph(repoRoot, ['src', 'webviews']);

  for (const layer of ['src/core', 'src/protocol', 'src/cli', 'webviews']) {
    it(`${layer} never imports vscode`, () => {
      const offenders = sourceFiles(path.join(repoRoot, layer)).filter((file) => IMPORTS_VSCODE.test(fs.readFileSync(file, 'utf8')));
      assert.deepEqual(
        offenders.map((f) => path.relative(repoRoot, f)),
        [],
      );
    });
  }

  it('the check itself catches an import of vscode', () => {
    assert.ok(IMPORTS_VSCODE.test("import * as vscode from 'vscode';"));
    assert.ok(IMPORTS_VSCODE.test('const vscode = require("vscode");'));
    assert.ok(IMPORTS_VSCODE.test("import type { Uri } from 'vscode';"));
    assert.ok(!IMPORTS_VSCODE.test("import { x } from './vscodeish.ts';"));
  });

  it('src/core has files to check', () => {
    assert.ok(sourceFiles(path.join(repoRoot, 'src/core')).length > 5);
    assert.ok(edges.filter((e) => isUnder(e.from, 'src/core') && isUnder(e.to, 'src/core')).length > 100);
  });

  it('every relative import names a file', () => {
    assert.deepEqual(
      edges.filter((e) => e.unresolved).map((e) => `${e.from} -> ${e.to}`),
      [],
    );
  });

  it('src/core imports only down its floors', () => {
    assert.deepEqual(floorViolations(edges, CORE_FLOORS), []);
  });

  it('no import cycle between src/core folders', () => {
    assert.deepEqual(cyclesOf(coreFolderEdges(edges)), []);
  });

  it('no import cycle between files of src and webviews', () => {
    assert.deepEqual(cyclesOf(edges.filter((e) => !e.package && !e.unresolved)), []);
  });

  it('src/core, src/protocol, webviews, src/cli and src/extension import only what their rule allows', () => {
    assert.deepEqual(areaViolations(edges, AREA_RULES), []);
  });

  it('the checks themselves catch an upward import, a sideways one, a cycle and a crossed area', () => {
    const edge = (from: string, to: string, typeOnly = false): ImportEdge => ({ from, to, typeOnly });
    const upward = edge('src/core/store/a.ts', 'src/core/runner/b.ts');
    const sideways = edge('src/core/models/a.ts', 'src/core/metrics/b.ts');
    const down = edge('src/core/runner/b.ts', 'src/core/store/a.ts');
    assert.equal(floorViolations([upward, sideways, down], CORE_FLOORS).length, 2);
    assert.deepEqual(floorViolations([down, edge('src/core/runner/b.ts', 'src/core/runner/c.ts')], CORE_FLOORS), []);
    assert.match(floorViolations([edge('src/core/newFolder/a.ts', 'src/core/util/b.ts')], CORE_FLOORS)[0]!, /newFolder\/ is on no floor/);
    assert.deepEqual(cyclesOf(coreFolderEdges([upward, down])), [['runner', 'store']]);
    const files = [edge('a.ts', 'b.ts'), edge('b.ts', 'c.ts'), edge('c.ts', 'a.ts'), edge('c.ts', 'd.ts')];
    assert.deepEqual(cyclesOf(files), [['a.ts', 'b.ts', 'c.ts']]);
    assert.deepEqual(cyclesOf([edge('a.ts', 'a.ts')]), [['a.ts']]);
    assert.deepEqual(cyclesOf(files.slice(0, 2)), []);
    const crossed = [
      edge('src/core/store/store.ts', 'src/cli/cli.ts'),
      edge('src/protocol/metricsPanel.ts', 'src/core/events.ts'),
      edge('src/protocol/metricsPanel.ts', 'src/core/events.ts', true),
      edge('webviews/metrics/app.tsx', 'src/core/events.ts', true),
    ];
    assert.deepEqual(areaViolations(crossed, AREA_RULES), [
      'src/core/store/store.ts -> src/cli/cli.ts',
      'src/protocol/metricsPanel.ts -> src/core/events.ts',
      'webviews/metrics/app.tsx -> src/core/events.ts (type)',
    ]);
  });

  it('the parser sees type-only imports, re-exports, dynamic imports and requires', () => {
    const source = [
      "import type { A } from './a.ts';",
      "import { type B } from './b.ts';",
      "export { C } from './c.ts';",
      "export type { D } from './d.ts';",
      "export * from './e.ts';",
      "import './f.css';",
      "const g = await import('./g.ts');",
      "const h = require('./h.cjs');",
      "let i: import('./i.ts').I;",
    ].join('\n');
    assert.deepEqual(specifiersOf('x.ts', source), [
      { text: './a.ts', typeOnly: true },
      { text: './b.ts', typeOnly: false },
      { text: './c.ts', typeOnly: false },
      { text: './d.ts', typeOnly: true },
      { text: './e.ts', typeOnly: false },
      { text: './f.css', typeOnly: false },
      { text: './g.ts', typeOnly: false },
      { text: './h.cjs', typeOnly: false },
      { text: './i.ts', typeOnly: true },
    ]);
  });
});
