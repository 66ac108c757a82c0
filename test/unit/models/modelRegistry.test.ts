import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importRvc } from '../../../src/core/import/rvcImporter.ts';
import { scanArtifacts } from '../../../src/core/models/artifactScanner.ts';
import {
  diskUsage,
  diskUsageByTraining,
  duplicateArtifacts,
  executePrune,
  listArtifacts,
  planPrune,
  refreshHashes,
  setPinned,
  syncArtifacts,
} from '../../../src/core/models/modelRegistry.ts';
import { Store } from '../../../src/core/store/store.ts';
import { TrainingRepository, type Training } from '../../../src/core/store/trainings.ts';
import { makeTempDir, sharedFixtures } from '../../support/tempDir.ts';

const runA = path.join(sharedFixtures, 'rvc-real-a');

/** provenance/FILES.txt: "size  sha256  relative/path" for every file of the fixture. */
function fixtureHashes(): Map<string, { size: number; sha256: string }> {
  const map = new Map<string, { size: number; sha256: string }>();
  for (const line of fs.readFileSync(path.join(runA, 'provenance/FILES.txt'), 'utf8').split('\n')) {
    const m = /^\s*(\d+)\s+([0-9a-f]{64})\s+(.+)$/.exec(line);
    if (m) map.set(m[3]!, { size: Number(m[1]), sha256: m[2]! });
  }
  return map;
}

describe('models registry: hashes, disk usage, duplicates, prune', () => {
  let dir: string;
  let cleanup: () => void;
  let store: Store;
  let rvc: string;
  let training: Training;
  beforeEach(async function () {
    if (!fs.existsSync(runA)) {
      console.warn(`SKIP: ../shared/fixtures not found at ${sharedFixtures} — the real RVC checkpoints are needed`);
      this.skip();
    }
    ({ dir, cleanup } = makeTempDir());
    rvc = path.join(dir, 'rvc');
    fs.mkdirSync(path.join(rvc, 'logs'), { recursive: true });
    fs.cpSync(path.join(runA, 'assets'), path.join(rvc, 'assets'), { recursive: true });
    const logs = path.join(rvc, 'logs/alto-demo');
    fs.mkdirSync(logs);
    for (const f of [
      'config.json',
      'G_10.pth',
      'G_20.pth',
      'D_10.pth',
      'D_20.pth',
      'added_IVF37_Flat_nprobe_1_alto-demo_v2.index',
      'trained_IVF37_Flat_nprobe_1_alto-demo_v2.index',
    ]) {
      fs.copyFileSync(path.join(runA, 'logs/alto-demo', f), path.join(logs, f));
    }
    fs.mkdirSync(path.join(dir, 'ws'));
    store = Store.open(path.join(dir, 'ws'));
    await importRvc(store, rvc);
    training = new TrainingRepository(store).require('alto-demo');
  });
  afterEach(() => {
    store?.close();
    cleanup?.();
  });

  it('hashes every artifact by streaming, equal to the fixture’s recorded sha256, and only again when the file changes', async () => {
    const expected = fixtureHashes();
    assert.equal(await refreshHashes(store, training.id), 8);
    for (const artifact of listArtifacts(store, training.id)) {
      const want = expected.get(path.relative(rvc, artifact.path))!;
      assert.deepEqual([artifact.size, artifact.sha256], [want.size, want.sha256], artifact.path);
    }
    assert.ok(!listArtifacts(store, training.id).some((a) => a.path.includes('trained_')), 'the trained_ index is never registered');
    assert.equal(await refreshHashes(store, training.id), 0, 'cached by path + size + mtime');
    const g10 = path.join(rvc, 'logs/alto-demo/G_10.pth');
    fs.appendFileSync(g10, 'x');
    await syncArtifacts(store, training.id, scanArtifacts(path.join(rvc, 'logs/alto-demo'), rvc, 'alto-demo'));
    assert.equal(listArtifacts(store, training.id).find((a) => a.path === g10)!.sha256, null, 'a changed file loses its stale hash');
    assert.equal(await refreshHashes(store, training.id), 1);
  });

  it('reports disk usage per kind and per training, and the same weights under two names', async () => {
    const usage = diskUsage(store, training.id);
    const sizeOf = (rel: string): number => fs.statSync(path.join(rvc, rel)).size;
    assert.equal(usage.byKind.checkpoint_g!.bytes, sizeOf('logs/alto-demo/G_10.pth') + sizeOf('logs/alto-demo/G_20.pth'));
    assert.equal(usage.byKind.weights!.count, 3);
    assert.equal(
      usage.totalBytes,
      Object.values(usage.byKind).reduce((s, k) => s + k.bytes, 0),
    );
    assert.deepEqual(diskUsageByTraining(store), [{ trainingId: training.id, name: 'alto-demo', bytes: usage.totalBytes }]);

    fs.copyFileSync(path.join(rvc, 'assets/weights/alto-demo_e4_s20.pth'), path.join(rvc, 'assets/weights/alto-demo_e9_s45.pth'));
    await syncArtifacts(store, training.id, scanArtifacts(path.join(rvc, 'logs/alto-demo'), rvc, 'alto-demo'));
    await refreshHashes(store, training.id);
    const dupes = duplicateArtifacts(store);
    assert.equal(dupes.length, 1);
    assert.deepEqual(
      dupes[0]!.paths.map((p) => path.basename(p)),
      ['alto-demo_e4_s20.pth', 'alto-demo_e9_s45.pth'],
    );
  });

  it('prune: a dry run lists bytes freed and deletes nothing; --yes deletes all but the newest N and pinned ones', async () => {
    const logs = path.join(rvc, 'logs/alto-demo');
    for (const step of [30, 40]) {
      fs.copyFileSync(path.join(logs, 'G_20.pth'), path.join(logs, `G_${step}.pth`));
      fs.copyFileSync(path.join(logs, 'D_20.pth'), path.join(logs, `D_${step}.pth`));
    }
    await syncArtifacts(store, training.id, scanArtifacts(logs, rvc, 'alto-demo'));
    setPinned(store, training.id, path.join(logs, 'G_10.pth'), true);

    const plan = planPrune(store, training.id, 1);
    assert.equal(plan.deleted, false);
    assert.deepEqual(
      plan.remove.map((r) => path.basename(r.path)),
      ['D_10.pth', 'D_20.pth', 'G_20.pth', 'D_30.pth', 'G_30.pth'],
    );
    assert.deepEqual(plan.pinned, [path.join(logs, 'G_10.pth')]);
    assert.equal(
      plan.bytesFreed,
      plan.remove.reduce((s, r) => s + fs.statSync(r.path).size, 0),
    );
    assert.ok(fs.existsSync(path.join(logs, 'D_10.pth')), 'the dry run deleted nothing');

    const done = executePrune(store, training.id, logs, plan);
    assert.equal(done.deleted, true);
    assert.deepEqual(
      fs
        .readdirSync(logs)
        .filter((f) => f.endsWith('.pth'))
        .sort(),
      ['D_40.pth', 'G_10.pth', 'G_40.pth'],
    );
    assert.deepEqual(
      listArtifacts(store, training.id)
        .filter((a) => a.kind.startsWith('checkpoint'))
        .map((a) => path.basename(a.path))
        .sort(),
      ['D_40.pth', 'G_10.pth', 'G_40.pth'],
    );
    assert.ok(fs.existsSync(path.join(rvc, 'assets/weights/alto-demo_e2_s10.pth')), 'small models are never pruned');
    assert.throws(() => planPrune(store, training.id, -1), /--keep/);
  });

  it('refuses to delete a registered path outside the training’s logs folder', async () => {
    const outside = path.join(dir, 'G_5.pth');
    fs.writeFileSync(outside, 'keep me');
    await syncArtifacts(store, training.id, [{ kind: 'checkpoint_g', path: outside, size: 7, mtimeMs: 1, epoch: null, step: 5 }]);
    const plan = planPrune(store, training.id, 2);
    assert.ok(plan.remove.some((r) => r.path === outside));
    assert.throws(() => executePrune(store, training.id, path.join(rvc, 'logs/alto-demo'), plan), /not inside the training's logs folder/);
    assert.ok(fs.existsSync(outside));
  });

  it('treats G_2333333 ("save latest only") as the newest checkpoint, without a step', async () => {
    const logs = path.join(rvc, 'logs/alto-demo');
    fs.copyFileSync(path.join(logs, 'G_20.pth'), path.join(logs, 'G_2333333.pth'));
    const found = scanArtifacts(logs, rvc, 'alto-demo').find((a) => a.path.endsWith('G_2333333.pth'))!;
    assert.equal(found.step, null);
    await syncArtifacts(store, training.id, scanArtifacts(logs, rvc, 'alto-demo'));
    const plan = planPrune(store, training.id, 1);
    assert.deepEqual(
      plan.remove.filter((r) => r.kind === 'checkpoint_g').map((r) => path.basename(r.path)),
      ['G_10.pth', 'G_20.pth'],
    );
  });
});
