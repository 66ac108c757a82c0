import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importRvc } from '../../../src/core/import/rvcImporter.ts';
import { querySeries } from '../../../src/core/metrics/metricsQuery.ts';
import { listArtifacts } from '../../../src/core/models/modelRegistry.ts';
import { checkpointEpoch, readCheckpointFields } from '../../../src/core/models/torchCheckpoint.ts';
import { Store } from '../../../src/core/store/store.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';
import { makeTempDir, sharedFixtures } from '../../support/tempDir.ts';

const runA = path.join(sharedFixtures, 'rvc-real-a');

describe('models: fields inside RVC .pth files', () => {
  beforeEach(function () {
    if (!fs.existsSync(runA)) {
      console.warn(`SKIP: ../shared/fixtures not found at ${sharedFixtures} — real RVC checkpoints are needed`);
      this.skip();
    }
  });

  it('reads iteration (the epoch) from G/D checkpoints and info/sr/f0/version from small models, as provenance/checkpoints.json lists them', () => {
    assert.deepEqual(readCheckpointFields(path.join(runA, 'logs/alto-demo/G_10.pth')), { iteration: 2, learningRate: 0.0001 });
    assert.deepEqual(readCheckpointFields(path.join(runA, 'logs/alto-demo/D_20.pth')), { iteration: 4, learningRate: 0.0001 });
    assert.deepEqual(readCheckpointFields(path.join(runA, 'assets/weights/alto-demo.pth')), { info: '4epoch', sr: '40k', f0: 1, version: 'v2' });
    assert.equal(checkpointEpoch(path.join(runA, 'assets/weights/alto-demo_e2_s10.pth')), 2);
    assert.equal(checkpointEpoch(path.join(runA, 'logs/alto-demo/config.json')), null, 'not a zip: no epoch, no error');
    assert.equal(checkpointEpoch(path.join(runA, 'logs/alto-demo/added_IVF37_Flat_nprobe_1_alto-demo_v2.index')), null);
  });

  it('gives a run saved without small models (-sw 0, the WebUI default) epochs from its checkpoints', async () => {
    const { dir, cleanup } = makeTempDir();
    const store = Store.open(dir);
    try {
      const logs = path.join(dir, 'install', 'logs', 'alto-demo');
      fs.mkdirSync(logs, { recursive: true });
      for (const f of ['config.json', 'G_10.pth', 'D_10.pth', 'G_20.pth', 'D_20.pth', 'events.out.tfevents.1795413187.vm.689.0']) {
        fs.copyFileSync(path.join(runA, 'logs/alto-demo', f), path.join(logs, f));
      }
      await importRvc(store, path.dirname(logs));
      const training = new TrainingRepository(store).require('alto-demo');
      assert.deepEqual(
        listArtifacts(store, training.id).map((a) => [path.basename(a.path), a.epoch]),
        [['D_10.pth', 2], ['D_20.pth', 4], ['G_10.pth', 2], ['G_20.pth', 4]],
      );
      const [series] = querySeries(store, { trainingIds: [training.id], tag: 'loss/g/total', x: 'epoch' });
      assert.deepEqual(series!.points.map((p) => p.x), [1, 1, 1, 2, 2, 3, 3, 3, 4, 4]);
    } finally {
      store.close();
      cleanup();
    }
  });
});
