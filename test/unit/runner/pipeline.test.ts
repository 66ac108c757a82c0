import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TaskRepository } from '../../../src/core/runner/taskRepository.ts';
import { makeBench, runAndWait, type Bench } from './helpers.ts';

describe('runner: the full pipeline against the RVC install test double', () => {
  let bench: Bench;
  beforeEach(() => {
    bench = makeBench();
  });
  afterEach(() => bench.cleanup());

  it('runs all five steps as one chain and judges each by its outputs', async () => {
    bench.createTraining('alto-demo');
    const tasks = await runAndWait(bench, 'alto-demo', 'all');
    assert.deepEqual(
      tasks.map((t) => [t.stepType, t.status, t.errorMsg]),
      [
        ['preprocess', 'success', null],
        ['extract_f0', 'success', null],
        ['extract_feature', 'success', null],
        ['train_model', 'success', null],
        ['train_index', 'success', null],
      ],
    );
    assert.ok(tasks.every((t) => t.progress === 100 && t.exitCode !== null && t.pid !== null));
    const training = bench.trainings.require('alto-demo');
    assert.equal(training.status, 'finished');
    assert.ok(training.hasPreprocessed && training.hasExtracted);
    assert.equal(training.resultModelPath, path.join(bench.rvc.root, 'assets', 'weights', 'alto-demo.pth'));
    const logs = path.join(bench.workspace, 'logs', 'alto-demo');
    assert.ok(fs.existsSync(path.join(logs, 'G_20.pth')), 'RVC wrote its checkpoints into the workspace logs folder');
    assert.ok(fs.readdirSync(logs).some((f) => /^added_IVF\d+_Flat_nprobe_1_alto-demo_v2\.index$/.test(f)));
    const train = tasks[3]!;
    const args = train.snapshot.plan!.processes[0]!.args;
    assert.deepEqual(args, ['infer/modules/train/train.py', '-e', 'alto-demo', '-sr', '40k', '-f0', '1', '-bs', '4', '-te', '4', '-se', '2', '-l', '0', '-c', '0', '-sw', '1', '-v', 'v2']);
    const notable = new TaskRepository(bench.store).logs(train.id).map((l) => l.message);
    assert.ok(notable.some((m) => m.includes('Training is done')));
    assert.ok(notable.some((m) => m.includes('====> Epoch: 4')));
  });
});
