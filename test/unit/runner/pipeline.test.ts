import { databaseOf } from '../../../src/core/store/store.ts';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { taskReader } from '../../../src/core/runner/taskSnapshot.ts';
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
    assert.deepEqual(args, [
      'infer/modules/train/train.py',
      '-e',
      'alto-demo',
      '-sr',
      '40k',
      '-f0',
      '1',
      '-bs',
      '4',
      '-te',
      '4',
      '-se',
      '2',
      '-l',
      '0',
      '-c',
      '0',
      '-sw',
      '1',
      '-v',
      'v2',
    ]);
    const notable = taskReader(bench.store)
      .logs(train.id)
      .map((l) => l.message);
    assert.ok(notable.some((m) => m.includes('Training is done')));
    assert.ok(notable.some((m) => m.includes('====> Epoch: 4')));
    // The losses RVC prints to stdout become curve points while the step runs (train.log stays empty).
    const points = databaseOf(bench.store)
      .prepare(
        "SELECT count(*) AS n FROM metrics m JOIN metric_series s ON s.id = m.series_id WHERE s.training_id = ? AND m.source = 'stdout'",
      )
      .get(training.id) as { n: number };
    assert.ok(points.n > 0, 'no metric points were read from the training stdout');
  });
});

describe('runner: on a two-GPU CUDA machine (test double)', () => {
  let bench: Bench;
  beforeEach(() => {
    bench = makeBench({ knobs: { cuda: true, gpus: [0, 1].map((index) => ({ index, name: 'NVIDIA RTX A6000', memGb: 48 })) } });
  });
  afterEach(() => bench.cleanup());

  it('runs rmvpe_gpu and feature extraction as one process per GPU entry and trains on -g 0-1', async () => {
    const created = bench.createTraining('duo', { files: 3 });
    bench.trainings.update(created.id, { f0Method: 'rmvpe_gpu', gpuId: '0-1' });
    const tasks = await runAndWait(bench, 'duo', 'all');
    assert.deepEqual(
      tasks.map((t) => t.status),
      ['success', 'success', 'success', 'success', 'success'],
      tasks.map((t) => t.errorMsg).join('\n'),
    );
    assert.deepEqual(
      tasks.map((t) => t.gpuId),
      [null, '0-1', '0-1', '0-1', null],
    );
    assert.equal(tasks[1]!.snapshot.plan!.processes.length, 4, 'gpus_rmvpe 0-1-0-1: four rmvpe processes');
    assert.equal(tasks[2]!.snapshot.plan!.processes.length, 2);
    assert.deepEqual(tasks[2]!.snapshot.plan!.device, { device: 'cuda:0', isHalf: true, source: 'probe' });
    const train = tasks[3]!.snapshot.plan!.processes[0]!.args;
    assert.equal(train[train.indexOf('-g') + 1], '0-1');
    const config = fs.readFileSync(path.join(bench.workspace, 'logs', 'duo', 'config.json'), 'utf8');
    assert.match(config, /"fp16_run": true/);
  });
});

describe('runner: failures a user can act on', () => {
  let bench: Bench;
  beforeEach(() => {
    bench = makeBench();
  });
  afterEach(() => bench.cleanup());

  it('a training whose child dies of CUDA OOM while the launched process exits 0 is failed, with the epoch and the trace', async () => {
    bench.createTraining('oom');
    const tasks = await runAndWait(bench, 'oom', 'all', { batch_size: '64' });
    const train = tasks.find((t) => t.stepType === 'train_model')!;
    assert.equal(train.status, 'failed');
    assert.equal(train.exitCode, 0, 'the launched train.py exited 0, as RVC does');
    const [sentence, ...lines] = train.errorMsg!.split('\n');
    assert.equal(sentence, 'CUDA out of memory at epoch 3 — lower the batch size (it is 64) and run train_model again.');
    assert.ok(
      lines.some((l) => l.startsWith('torch.OutOfMemoryError: CUDA out of memory')),
      train.errorMsg!,
    );
    const index = tasks.find((t) => t.stepType === 'train_index')!;
    assert.equal(index.status, 'cancelled');
    assert.match(index.errorMsg!, /train_model before it in the chain failed/);
    assert.equal(bench.trainings.require('oom').status, 'failed');

    const retry = bench.runner.retry(train.id.slice(0, 8));
    assert.equal(retry.retryOf, train.id);
    assert.deepEqual(retry.snapshot, train.snapshot, 'a retry repeats the same snapshot');
    const [again] = await bench.runner.waitFor([retry.id]);
    assert.equal(again!.status, 'failed');
  });

  it('continuing a finished training with more epochs resumes from its latest checkpoint', async () => {
    bench.createTraining('more');
    await runAndWait(bench, 'more', 'all');
    assert.equal(bench.trainings.require('more').status, 'finished');
    const [task] = await runAndWait(bench, 'more', 'train_model', { total_epoch: '6' });
    assert.equal(task!.status, 'success', task!.errorMsg ?? '');
    const log = fs.readFileSync(task!.logPath!, 'utf8');
    assert.match(log, /resumed at epoch 4/);
    assert.doesNotMatch(log, /====> Epoch: 1 /);
    assert.match(log, /====> Epoch: 6 /);
    assert.equal(bench.trainings.require('more').status, 'finished');
  });

  it('a missing Python, a wrong RVC folder, an empty dataset and an unmet dependency fail at once with clear messages', async () => {
    bench.createTraining('no-python');
    bench.createTraining('wrong-root');
    bench.createTraining('empty', { files: 0, extra: (dir) => fs.mkdirSync(path.join(dir, '.ipynb_checkpoints')) });
    bench.createTraining('not-ready');
    bench.createTraining('bystander');
    const good = bench.settings;
    const settingsFor: Record<string, Partial<typeof good>> = {
      'no-python': { 'rvc.pythonPath': path.join(bench.dir, 'no', 'python') },
      'wrong-root': { 'rvc.root': bench.dir },
    };
    // One runner per odd setting, all on the same store and queue.
    const outcomes: Record<string, { status: string; error: string }> = {};
    for (const [name, override] of Object.entries(settingsFor)) {
      const { Runner } = await import('../../../src/core/runner/runner.ts');
      const runner = new Runner(bench.store, { settings: () => ({ ...good, ...override }), only: new Set() });
      const [task] = runner.enqueue(name, 'preprocess');
      runner.start();
      const [done] = await runner.waitFor([task!.id]);
      runner.stop();
      outcomes[name] = { status: done!.status, error: done!.errorMsg ?? '' };
    }
    const [empty] = await runAndWait(bench, 'empty', 'preprocess');
    const [notReady] = await runAndWait(bench, 'not-ready', 'train_model');
    const [bystander] = await runAndWait(bench, 'bystander', 'preprocess');
    assert.equal(outcomes['no-python']!.status, 'failed');
    assert.match(
      outcomes['no-python']!.error,
      /^The Python .*no\/python does not run \(.*ENOENT\); set rvcStudio\.rvc\.pythonPath to the Python of your RVC install\.$/,
    );
    assert.equal(outcomes['wrong-root']!.status, 'failed');
    assert.match(outcomes['wrong-root']!.error, /is not an RVC WebUI folder: infer\/modules\/train\/preprocess\.py is missing/);
    assert.equal(empty!.status, 'failed');
    assert.match(empty!.errorMsg!, /holds no audio files .*only \.ipynb_checkpoints; add the recordings to train on\.$/);
    assert.equal(notReady!.status, 'failed');
    assert.match(notReady!.errorMsg!, /^train_model needs the extracted features and f0: run "preprocess" for "not-ready" first$/);
    assert.equal(bystander!.status, 'success', 'the failures disturbed nothing else');
    assert.equal(bench.trainings.require('empty').status, 'draft');
    assert.throws(() => bench.runner.enqueue('bystander', 'train_model', { set: { totl_epoch: '3' } }), /Unknown parameter "totl_epoch"/);
    assert.throws(
      () => bench.runner.enqueue('bystander', 'train_model', { set: { batch_size: 'many' } }),
      /batch_size must be a whole number/,
    );
  });

  it('a dataset with a .ipynb_checkpoints folder and names with spaces train fine', async () => {
    bench.createTraining('alto demo 2', {
      datasetName: 'my recordings',
      extra: (dir) => {
        fs.mkdirSync(path.join(dir, '.ipynb_checkpoints'));
        fs.writeFileSync(path.join(dir, '.ipynb_checkpoints', 'alto_01-checkpoint.wav'), 'x');
      },
    });
    const tasks = await runAndWait(bench, 'alto demo 2', 'all');
    assert.deepEqual(
      tasks.map((t) => t.status),
      ['success', 'success', 'success', 'success', 'success'],
      tasks.map((t) => t.errorMsg).join('\n'),
    );
    const preprocessLog = fs.readFileSync(path.join(bench.workspace, 'logs', 'alto demo 2', 'preprocess.log'), 'utf8');
    assert.doesNotMatch(preprocessLog, /Traceback|ipynb/);
    const warnings = taskReader(bench.store)
      .logs(tasks[0]!.id)
      .filter((l) => l.level === 'WARN');
    assert.deepEqual(
      warnings.map((w) => w.message),
      ['skipped what is not audio in the dataset folder: .ipynb_checkpoints'],
    );
    assert.deepEqual(fs.readdirSync(path.join(bench.store.storeDir, 'staging')), [], 'the folder of links is removed afterwards');
  });
  it('preprocess succeeds when some files fail, and lists them as warnings; when all fail it says so', async () => {
    bench.createTraining('partly', { files: 2, extra: (dir) => fs.writeFileSync(path.join(dir, 'zz_broken.wav'), 'BROKEN') });
    const [partly] = await runAndWait(bench, 'partly', 'preprocess');
    assert.equal(partly!.status, 'success');
    const warnings = taskReader(bench.store)
      .logs(partly!.id)
      .filter((l) => l.level === 'WARN')
      .map((l) => l.message);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /^not sliced: .*zz_broken\.wav \(RuntimeError: Failed to load audio: ffmpeg error \(see stderr output for detail\)\)$/,
    );
    bench.createTraining('all-broken', { files: 0, extra: (dir) => fs.writeFileSync(path.join(dir, 'a.wav'), 'BROKEN') });
    const [broken] = await runAndWait(bench, 'all-broken', 'preprocess');
    assert.equal(broken!.status, 'failed');
    assert.match(broken!.errorMsg!, /^preprocess could not read any of the 1 audio files \(is ffmpeg installed for RVC's Python\?\)\.\n/);
    assert.match(broken!.errorMsg!, /RuntimeError: Failed to load audio/);
  });
});
