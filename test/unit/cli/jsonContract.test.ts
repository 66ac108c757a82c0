import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { jsonReplacer } from '../../../src/cli/cli.ts';
import { dataMap, INTERNAL_FIELDS, JSON_SCHEMA_VERSION, snakeCase, toJsonDocument } from '../../../src/cli/jsonContract.ts';
import { makeDataset } from '../../doubles/rvcInstall/makeRvcInstall.ts';
import { cliEntry, makeTempDir } from '../../support/tempDir.ts';
import { makeCliWorkspace } from '../runner/helpers.ts';

/**
 * The --json contract (README "JSON output"): every command prints one object with `schema`,
 * snake_case keys, none of the runner's bookkeeping, and `training` always an object.
 */

const INTERNAL_CAMEL = ['logOffset', 'claimedBy', 'cancelRequested', 'runnerId'];
/**
 * Maps keyed by data, not field names (README "JSON output"), by where they sit with array indexes
 * left out: WebUI/RVC parameters, metric tags, artifact kinds, environment variables. Printed as is.
 */
const DATA_MAPS = [/\.snapshot\.params$/, /^\.trainings?\.params$/, /\.processes\.env$/, /^\.series$/, /^\.disk_usage\.by_kind$/];

function violations(value: unknown, at: string, out: string[]): string[] {
  if (Array.isArray(value)) value.forEach((v, i) => violations(v, `${at}[${i}]`, out));
  else if (value !== null && typeof value === 'object') {
    if (DATA_MAPS.some((re) => re.test(at.replace(/\[\d+\]/g, '')))) return out;
    for (const [key, inner] of Object.entries(value)) {
      const where = `${at}.${key}`;
      if (!/^[a-z][a-z0-9_]*$/.test(key)) out.push(`${where}: not snake_case`);
      if (INTERNAL_FIELDS.has(key) || INTERNAL_CAMEL.includes(key)) out.push(`${where}: internal field`);
      if (key === 'training') {
        const t = inner as { id?: unknown; name?: unknown } | null;
        if (t === null || typeof t !== 'object' || Array.isArray(t) || typeof t.id !== 'string' || typeof t.name !== 'string')
          out.push(`${where}: training is not an object {id, name}`);
      }
      violations(inner, where, out);
    }
  }
  return out;
}

describe('toJsonDocument', () => {
  it("puts schema first, converts field names to snake_case and drops the runner's bookkeeping", () => {
    const doc = toJsonDocument({
      schema: 'mine',
      task: { stepType: 'train_model', etaMs: null, logOffset: 9, claimedBy: 'r', cancelRequested: false, gone: undefined },
    });
    assert.deepEqual(Object.keys(doc), ['schema', 'task']);
    assert.equal(doc['schema'], JSON_SCHEMA_VERSION);
    assert.deepEqual(doc['task'], { step_type: 'train_model', eta_ms: null });
    assert.deepEqual(toJsonDocument(null), { schema: JSON_SCHEMA_VERSION });
    assert.deepEqual(toJsonDocument([1]), { schema: JSON_SCHEMA_VERSION, result: [1] });
  });

  it('leaves maps keyed by data as they are, and only identifier-shaped keys are converted', () => {
    const params = { pretrainG: '', total_epoch: 2 };
    const doc = toJsonDocument({
      snapshot: { params: dataMap(params), trainingName: 'x' },
      series: { 'loss/g/total': [[0, Number.NaN, 1]] },
    });
    assert.deepEqual(doc['snapshot'], { params: { pretrainG: '', total_epoch: 2 }, training_name: 'x' });
    assert.deepEqual(Object.keys(doc['series'] as object), ['loss/g/total']);
    assert.deepEqual(JSON.parse(JSON.stringify(doc['series'], jsonReplacer)), { 'loss/g/total': [[0, 'NaN', 1]] });
    assert.deepEqual(
      ['f0Method', 'diskUsage', 'featureSize', 'mtimeMs', 'schemaVersion', 'rvcStudio.defaults.f0Method', 'loss/g/total', 'sha256'].map(
        snakeCase,
      ),
      ['f0_method', 'disk_usage', 'feature_size', 'mtime_ms', 'schema_version', 'rvcStudio.defaults.f0Method', 'loss/g/total', 'sha256'],
    );
  });
});

describe('CLI --json contract', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => void;
  let workspace: string;
  const documents: { args: string[]; doc: Record<string, unknown> }[] = [];
  const json = (...args: string[]): Record<string, unknown> => {
    const r = spawnSync(process.execPath, [cliEntry, '--workspace', workspace, '--json', ...args], {
      encoding: 'utf8',
      env: { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') },
    });
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      throw new Error(`${args.join(' ')}: stdout is not one JSON document (exit ${r.status}): ${r.stdout}${r.stderr}`);
    }
    documents.push({ args, doc });
    return doc;
  };

  before(() => {
    ({ dir, cleanup } = makeTempDir('rvc-studio-json-'));
    workspace = makeCliWorkspace(dir);
  });
  after(() => cleanup());

  it('every command answers with schema, snake_case keys, no internal fields, training as an object', () => {
    json('init');
    json('training', 'create', 'alto', '--dataset', makeDataset(path.join(dir, 'data'), 2));
    json('training', 'create', 'bass', '--dataset', makeDataset(path.join(dir, 'data2'), 2));
    json('training', 'list');
    json('training', 'show', 'alto');
    const ran = json('run', 'alto', 'all');
    const tasks = ran['tasks'] as { id: string; training: { name: string } }[];
    assert.ok(tasks.length >= 1, JSON.stringify(ran));
    assert.equal(tasks[0]!.training.name, 'alto');
    const id = tasks[0]!.id;
    json('task', 'list');
    json('task', 'list', '--training', 'alto');
    json('task', 'show', id.slice(0, 8));
    json('task', 'log', id);
    json('task', 'retry', id);
    json('task', 'cancel', id);
    const queued = json('run', 'bass', 'preprocess', '--detach');
    json('task', 'cancel', (queued['tasks'] as { id: string }[])[0]!.id);
    json('models', 'alto');
    json('models', 'prune', 'alto', '--keep', '1');
    json('metrics', 'ingest', 'alto');
    json('metrics', 'alto');
    json('infer', 'history');
    json('models', 'cache');
    json('models', 'voices');
    const worker = json('worker', '--exit-when-idle');
    assert.ok(Array.isArray(worker['claimed']), JSON.stringify(worker));
    json('training', 'delete', 'bass');
    json('training', 'restore', 'bass');
    json('training', 'delete', 'bass');
    json('training', 'purge', 'bass');
    json('db', 'check');
    json('db', 'backup');
    json('db', 'backups');
    json('db', 'version');
    // A user error is a document too.
    const error = json('training', 'show', 'nobody');
    assert.equal((error['error'] as { code: string }).code, 'no-training');

    const problems: string[] = [];
    for (const { args, doc } of documents) {
      if (doc['schema'] !== JSON_SCHEMA_VERSION || Object.keys(doc)[0] !== 'schema')
        problems.push(`${args.join(' ')}: schema is ${String(doc['schema'])}, not first`);
      for (const v of violations(doc, '', [])) problems.push(`${args.join(' ')}: ${v}`);
    }
    assert.deepEqual(problems, []);
  });
});
