import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chooseDevice, probeDevice, supportsHalf } from '../../../src/core/runner/device.ts';
import { resolveParams } from '../../../src/core/runner/params.ts';
import { ProgressTracker, lastErrorLines } from '../../../src/core/runner/progress.ts';
import { pythonFloatRepr } from '../../../src/core/runner/pythonJson.ts';
import { buildFilelist, buildTrainConfig, configChoice, rvcEngine } from '../../../src/core/runner/rvcEngine.ts';
import type { StepType } from '../../../src/core/store/vocabulary.ts';
import { defaultSettings, type Settings } from '../../../src/core/settings.ts';
import { Store } from '../../../src/core/store/store.ts';
import { TrainingRepository, type Training } from '../../../src/core/store/trainings.ts';
import { makeDataset, makeRvcInstall } from '../../doubles/rvcInstall/makeRvcInstall.ts';
import { makeTempDir, sharedFixtures } from '../../support/tempDir.ts';
import { ourCommandLines, realCommandLines, REAL_DATASET, REAL_PYTHON, REAL_ROOT, REAL_RUN } from './webuiCommands.ts';

function needFixtures(context: Mocha.Context): void {
  if (!fs.existsSync(REAL_RUN)) {
    console.warn(`SKIP: ../shared/fixtures not found — ${REAL_RUN} is needed to compare with a real RVC run`);
    context.skip();
  }
}

describe("rvc engine: the WebUI's command lines and files", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = makeTempDir('rvc-studio-engine-')));
  afterEach(() => cleanup());

  it('builds exactly the argument lists the WebUI launched in the real run (commands.txt)', function () {
    needFixtures(this);
    const { rvc, dataset, lines } = ourCommandLines(dir);
    const ours = [...lines.preprocess, ...lines.extract_f0, ...lines.extract_feature, ...lines.train_model].map((argv) =>
      argv.map((a) => a.replace(rvc.python, REAL_PYTHON).replace(rvc.root, REAL_ROOT).replace(dataset, REAL_DATASET)),
    );
    assert.deepEqual(ours, realCommandLines());
  });

  it('runs rmvpe_gpu as one process per entry and feature extraction as one per GPU, with -g 0-1', () => {
    const rvc = makeRvcInstall(path.join(dir, 'rvc'), {
      cuda: true,
      gpus: [0, 1].map((index) => ({ index, name: 'NVIDIA GeForce RTX 3090', memGb: 24 })),
    });
    const workspace = path.join(dir, 'ws');
    fs.mkdirSync(workspace);
    const store = Store.open(workspace);
    try {
      const training = new TrainingRepository(store).create({
        name: 'duo',
        datasetPath: makeDataset(path.join(dir, 'd'), 2),
        f0Method: 'rmvpe_gpu',
        gpuId: '0-1',
      });
      const settings: Settings = { ...defaultSettings(), 'rvc.root': rvc.root, 'rvc.pythonPath': rvc.python };
      const device = chooseDevice('auto', () => probeDevice(rvc.python, rvc.root));
      const plan = (step: StepType, set: Record<string, string> = {}): string[][] =>
        rvcEngine
          .plan({
            store,
            settings,
            training,
            taskId: '00000000-0000-4000-8000-000000000000',
            step,
            params: resolveParams(settings, training, set),
            logsDir: path.join(workspace, 'logs', 'duo'),
            device: () => device,
          })
          .processes.map((p) => p.args);
      const exp = path.join(rvc.root, 'logs', 'duo');
      assert.deepEqual(plan('extract_f0'), [
        ['infer/modules/train/extract/extract_f0_rmvpe.py', '4', '0', '0', exp, 'True'],
        ['infer/modules/train/extract/extract_f0_rmvpe.py', '4', '1', '1', exp, 'True'],
        ['infer/modules/train/extract/extract_f0_rmvpe.py', '4', '2', '0', exp, 'True'],
        ['infer/modules/train/extract/extract_f0_rmvpe.py', '4', '3', '1', exp, 'True'],
      ]);
      assert.deepEqual(plan('extract_feature'), [
        ['infer/modules/train/extract_feature_print.py', 'cuda:0', '2', '0', '0', exp, 'v2', 'True'],
        ['infer/modules/train/extract_feature_print.py', 'cuda:0', '2', '1', '1', exp, 'v2', 'True'],
      ]);
      fs.mkdirSync(path.join(rvc.root, 'assets', 'pretrained_v2'), { recursive: true });
      for (const f of ['f0G40k.pth', 'f0D40k.pth']) fs.writeFileSync(path.join(rvc.root, 'assets', 'pretrained_v2', f), 'x');
      const train = plan('train_model')[0]!;
      assert.deepEqual(train.slice(train.indexOf('-g'), train.indexOf('-g') + 2), ['-g', '0-1']);
      assert.deepEqual(train.slice(train.indexOf('-pg'), train.indexOf('-pg') + 4), [
        '-pg',
        'assets/pretrained_v2/f0G40k.pth',
        '-pd',
        'assets/pretrained_v2/f0D40k.pth',
      ]);
      assert.throws(() => plan('train_model', { gpus: '0-2' }), /GPU 2 \(gpus\) does not exist: the Python sees 2 CUDA cards/);
    } finally {
      store.close();
    }
  });

  it('on a CPU-only machine: device cpu, no half precision, 3.0 s slices, no -g and no i_gpu argument', () => {
    const rvc = makeRvcInstall(path.join(dir, 'rvc'));
    const device = chooseDevice('auto', () => probeDevice(rvc.python, rvc.root));
    assert.deepEqual(device, { device: 'cpu', isHalf: false, preprocessPer: 3.0, gpuCount: 0, source: 'probe' });
    const workspace = path.join(dir, 'ws');
    fs.mkdirSync(workspace);
    const store = Store.open(workspace);
    try {
      const training = new TrainingRepository(store).create({ name: 'cpu', datasetPath: makeDataset(path.join(dir, 'd'), 2) });
      const settings: Settings = { ...defaultSettings(), 'rvc.root': rvc.root, 'rvc.pythonPath': rvc.python };
      const plan = (step: StepType): string[] =>
        rvcEngine.plan({
          store,
          settings,
          training,
          taskId: '00000000-0000-4000-8000-000000000000',
          step,
          params: resolveParams(settings, training),
          logsDir: path.join(workspace, 'logs', 'cpu'),
          device: () => device,
        }).processes[0]!.args;
      assert.deepEqual(plan('extract_feature'), [
        'infer/modules/train/extract_feature_print.py',
        'cpu',
        '1',
        '0',
        path.join(rvc.root, 'logs', 'cpu'),
        'v2',
        'False',
      ]);
      assert.ok(!plan('train_model').includes('-g'));
      assert.equal(plan('preprocess').at(-1), '3.0');
    } finally {
      store.close();
    }
    assert.equal(supportsHalf('NVIDIA GeForce GTX 1660 SUPER'), false);
    assert.equal(supportsHalf('Tesla V100-SXM2-16GB'), true);
    assert.equal(supportsHalf('Tesla P40'), false);
    assert.throws(
      () =>
        chooseDevice('auto', () => ({
          python: '3.10',
          torch: null,
          cuda: false,
          mps: false,
          gpus: [],
          error: "ModuleNotFoundError: No module named 'torch'",
        })),
      /cannot import torch/,
    );
  });

  it('writes config.json byte for byte as the WebUI did, choosing v1/40k for a v2 40k model, fp16 off without half precision', function () {
    needFixtures(this);
    const rvc = makeRvcInstall(path.join(dir, 'rvc'));
    assert.equal(configChoice('v2', '40k'), 'v1/40k.json');
    assert.equal(configChoice('v2', '48k'), 'v2/48k.json');
    assert.equal(configChoice('v1', '48k'), 'v1/48k.json');
    const real = fs.readFileSync(path.join(REAL_RUN, 'provenance', 'config.webui-written.json'), 'utf8');
    assert.equal(buildTrainConfig(rvc.root, 'v2', '40k', true), real);
    assert.match(buildTrainConfig(rvc.root, 'v2', '40k', false), /"fp16_run": false/);
    // configs/inuse/ (created by the WebUI at start-up) wins over the fresh clone's configs/.
    fs.mkdirSync(path.join(rvc.root, 'configs', 'inuse', 'v1'), { recursive: true });
    fs.writeFileSync(path.join(rvc.root, 'configs', 'inuse', 'v1', '40k.json'), '{"train": {"eps": 1e-9, "fp16_run": false}}');
    assert.equal(
      buildTrainConfig(rvc.root, 'v2', '40k', true),
      '{\n    "train": {\n        "eps": 1e-09,\n        "fp16_run": false\n    }\n}\n',
    );
  });

  it('writes filelist.txt with the same lines as the real run, mute lines included, no final newline', function () {
    needFixtures(this);
    const exp = path.join(REAL_RUN, 'logs', 'alto-demo');
    const params = resolveParams(defaultSettings(), {
      targetSr: 40000,
      modelVersion: 'v2',
      ifF0: true,
      f0Method: 'harvest',
      gpuId: '0',
      params: {},
      name: 'alto-demo',
    } as Training);
    const ours = buildFilelist(REAL_ROOT, exp, params).replaceAll(exp, `${REAL_ROOT}/logs/alto-demo`);
    const real = fs.readFileSync(path.join(exp, 'filelist.txt'), 'utf8');
    // The fixture keeps only some of the run's sliced files, so ours lists those (and the mute lines).
    const realLines = new Set(real.split('\n'));
    const ourLines = ours.split('\n');
    assert.equal(ourLines.length, fs.readdirSync(path.join(exp, '3_feature768')).length + 2);
    assert.deepEqual(
      ourLines.filter((l) => !realLines.has(l)),
      [],
    );
    assert.equal(ourLines.filter((l) => l.includes('/logs/mute/')).length, 2);
    assert.ok(!ours.endsWith('\n') && !real.endsWith('\n'));
  });

  it('prints floats as Python does', () => {
    assert.deepEqual([1e-9, 32768, 0.0001, 1e-5, 0.999875, 1e16, 123.456, 0.8].map(pythonFloatRepr), [
      '1e-09',
      '32768.0',
      '0.0001',
      '1e-05',
      '0.999875',
      '1e+16',
      '123.456',
      '0.8',
    ]);
  });
});

describe('progress from real RVC log lines', () => {
  const lines = (file: string): string[] => fs.readFileSync(file, 'utf8').split('\n');

  it('reads preprocess.log, extract_f0_feature.log and the training console of the real run', function () {
    needFixtures(this);
    const logs = path.join(REAL_RUN, 'logs', 'alto-demo');
    const pre = new ProgressTracker('preprocess', { totalEpoch: 1, datasetFiles: 12 }).feed(lines(path.join(logs, 'preprocess.log')));
    assert.equal(pre.progress, 99.9);
    assert.deepEqual(
      pre.notable.map((n) => n.message),
      ['start preprocess', 'end preprocess'],
    );
    const feature = new ProgressTracker('extract_feature', { totalEpoch: 1 }).feed(lines(path.join(logs, 'extract_f0_feature.log')));
    assert.equal(feature.progress, 99.9);
    const f0 = new ProgressTracker('extract_f0', { totalEpoch: 1 }).feed(lines(path.join(logs, 'extract_f0_feature.log')).slice(0, 20));
    assert.ok(f0.progress !== undefined && f0.progress >= 0);

    const tracker = new ProgressTracker('train_model', { totalEpoch: 4 });
    const consoleLines = lines(path.join(REAL_RUN, 'provenance', 'console.txt'));
    const epoch2 = consoleLines.findIndex((l) => l.includes('====> Epoch: 2'));
    const half = tracker.feed(consoleLines.slice(0, epoch2 + 1), 1000);
    assert.equal(half.progress, 50);
    const later = tracker.feed(consoleLines.slice(epoch2 + 1, consoleLines.findIndex((l) => l.includes('====> Epoch: 3')) + 1), 3000);
    assert.equal(later.progress, 75);
    assert.ok(later.etaMs !== null && later.etaMs! > 0, 'an ETA once progress moves');
    const rest = tracker.feed(consoleLines.slice(epoch2 + 1), 5000);
    assert.ok(rest.notable.some((n) => n.level === 'INFO' && n.message.includes('Training is done')));
    assert.ok(!rest.notable.some((n) => n.level === 'ERROR'), 'FutureWarnings are not errors');
  });

  it('reads train.log lines with their timestamp prefix (rvc-real-c)', function () {
    const file = path.join(sharedFixtures, 'rvc-real-c-trainlog', 'logs', 'trainlog-demo', 'train.log');
    if (!fs.existsSync(file)) {
      console.warn(`SKIP: ../shared/fixtures not found — ${file}`);
      this.skip();
    }
    const update = new ProgressTracker('train_model', { totalEpoch: 2 }).feed(lines(file));
    assert.equal(update.progress, 99.9);
  });

  it('keeps the end of the last traceback as the error lines', () => {
    const log =
      'x\nTraceback (most recent call last):\n  File "a.py", line 1\n    boom()\nRuntimeError: CUDA error: out of memory\nafter\n';
    assert.deepEqual(lastErrorLines(log), [
      'Traceback (most recent call last):',
      '  File "a.py", line 1',
      '    boom()',
      'RuntimeError: CUDA error: out of memory',
    ]);
  });
});
