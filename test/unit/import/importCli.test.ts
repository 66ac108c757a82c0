import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseJsonWithNonFinite } from '../../../src/core/metrics/jsonlReader.ts';
import { cliEntry, makeTempDir, sharedFixtures } from '../../support/tempDir.ts';

const runA = path.join(sharedFixtures, 'rvc-real-a');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(workspace: string, ...args: string[]): Run {
  // spawnSync blocks mocha's own timeout, so the child gets one: a stalled run fails instead of hanging the suite.
  const result = spawnSync(process.execPath, [cliEntry, '--workspace', workspace, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function json<T>(run: Run): T {
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as T;
}

describe('rvc-studio CLI: import, models, metrics', function () {
  this.timeout(300_000);
  let dir: string;
  let cleanup: () => void;
  let ws: string;
  let rvc: string;
  before(function () {
    if (!fs.existsSync(runA)) {
      console.warn(`SKIP: ../shared/fixtures not found at ${sharedFixtures} — the CLI contract is checked on rvc-real-a`);
      this.skip();
    }
    ({ dir, cleanup } = makeTempDir());
    ws = path.join(dir, 'ws');
    rvc = path.join(dir, 'rvc');
    fs.mkdirSync(ws);
    fs.mkdirSync(path.join(rvc, 'logs'), { recursive: true });
    fs.cpSync(path.join(runA, 'assets'), path.join(rvc, 'assets'), { recursive: true });
    const logs = path.join(rvc, 'logs/alto-demo');
    fs.mkdirSync(logs);
    for (const f of fs.readdirSync(path.join(runA, 'logs/alto-demo'))) {
      const from = path.join(runA, 'logs/alto-demo', f);
      if (fs.statSync(from).isFile()) fs.copyFileSync(from, path.join(logs, f));
    }
  });
  after(() => cleanup?.());

  it('import RVC_ROOT --json, then metrics NAME --json in the contract shape with "NaN"/"Infinity"', () => {
    const imported = json<{ trainings: { name: string; action: string; new_points: number }[] }>(cli(ws, 'import', rvc, '--json'));
    assert.deepEqual(
      imported.trainings.map((t) => [t.name, t.action, t.new_points]),
      [['alto-demo', 'created', 350]],
    );
    const again = json<{ trainings: { action: string; new_points: number; artifacts: { added: string[] } }[] }>(
      cli(ws, 'import', rvc, '--training', 'alto-demo', '--json'),
    );
    assert.deepEqual(
      [again.trainings[0]!.action, again.trainings[0]!.new_points, again.trainings[0]!.artifacts.added],
      ['unchanged', 0, []],
    );

    const run = cli(ws, 'metrics', 'alto-demo', '--tag', 'grad_norm_g', '--json');
    const out = json<{ training: { id: string; name: string }; series: Record<string, [number, number | string, number][]> }>(run);
    assert.deepEqual(Object.keys(out), ['schema', 'training', 'series']);
    assert.equal(out.training.name, 'alto-demo');
    assert.deepEqual(Object.keys(out.series), ['grad_norm_g']);
    const dump = parseJsonWithNonFinite(fs.readFileSync(path.join(runA, 'provenance/tensorboard.json'), 'utf8')) as Record<
      string,
      { scalars: Record<string, [number, number, number][]> }
    >;
    const expected = dump['logs/alto-demo/events.out.tfevents.1795413187.vm.689.0']!.scalars['grad_norm_g']!;
    const spell = (v: number): number | string =>
      Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
    assert.deepEqual(
      out.series['grad_norm_g']!.map(([x, v]) => [x, v]),
      expected.map(([step, v]) => [step, spell(v)]),
    );
    for (const [i, point] of out.series['grad_norm_g']!.entries()) assert.ok(Math.abs(point[2] - expected[i]![2] * 1000) < 0.01);

    const all = json<{ series: Record<string, unknown[]> }>(cli(ws, 'metrics', 'alto-demo', '--x', 'epoch', '--max-points', '4', '--json'));
    assert.equal(Object.keys(all.series).length, 35);
    assert.ok(Object.values(all.series).every((s) => s.length <= 4));
    const epochs = json<{ series: Record<string, [number][]> }>(
      cli(ws, 'metrics', 'alto-demo', '--tag', 'loss/g/total', '--x', 'epoch', '--json'),
    );
    assert.deepEqual(
      epochs.series['loss/g/total']!.map(([x]) => x),
      [1, 1, 1, 2, 2, 3, 3, 3, 4, 4],
    );

    const text = cli(ws, 'metrics', 'alto-demo');
    assert.equal(text.code, 0);
    assert.match(text.stdout, /best epoch: 4 .*alto-demo_e4_s20\.pth/);

    const bad = cli(ws, 'metrics', 'alto-demo', '--tag', 'nope', '--json');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /has no metric "nope"; its tags are: /);
    assert.equal(cli(ws, 'metrics', 'alto-demo', '--x', 'time').code, 1);

    const ingest = json<{ new_points: number }>(cli(ws, 'metrics', 'ingest', 'alto-demo', '--json'));
    assert.equal(ingest.new_points, 0);
  });

  it('models NAME --json, then models prune: dry run by default, deleting only with --yes', () => {
    const models = json<{ artifacts: { kind: string; path: string; sha256: string }[]; disk_usage: { total_bytes: number } }>(
      cli(ws, 'models', 'alto-demo', '--json'),
    );
    assert.equal(models.artifacts.filter((a) => a.kind === 'weights').length, 3);
    assert.ok(models.artifacts.every((a) => /^[0-9a-f]{64}$/.test(a.sha256)));
    assert.ok(models.disk_usage.total_bytes > 0);

    const logs = path.join(rvc, 'logs/alto-demo');
    const dry = json<{ remove: { path: string }[]; bytes_freed: number; deleted: boolean }>(
      cli(ws, 'models', 'prune', 'alto-demo', '--keep', '1', '--json'),
    );
    assert.deepEqual(
      dry.remove.map((r) => path.basename(r.path)),
      ['D_10.pth', 'G_10.pth'],
    );
    assert.equal(dry.bytes_freed, fs.statSync(path.join(logs, 'D_10.pth')).size + fs.statSync(path.join(logs, 'G_10.pth')).size);
    assert.equal(dry.deleted, false);
    assert.ok(fs.existsSync(path.join(logs, 'G_10.pth')));

    const done = json<{ deleted: boolean }>(cli(ws, 'models', 'prune', 'alto-demo', '--keep', '1', '--yes', '--json'));
    assert.equal(done.deleted, true);
    assert.ok(!fs.existsSync(path.join(logs, 'G_10.pth')) && !fs.existsSync(path.join(logs, 'D_10.pth')));
    assert.ok(fs.existsSync(path.join(logs, 'G_20.pth')) && fs.existsSync(path.join(logs, 'D_20.pth')));
  });
});
