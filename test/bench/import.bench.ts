// Import benchmark: an RVC install whose logs folder holds 5,000 files (10 experiments with
// preprocessed audio, f0, features, checkpoints, logs and events files), imported into a fresh
// store, against walking the same tree (readdir + stat of every file) in the same run.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { importRvc } from '../../src/core/import/rvcImporter.ts';
import { Store } from '../../src/core/store/store.ts';
import { timeMs, timeMsAsync, type BenchResult } from './benchResult.ts';
import { encodeEvent } from './metricsTfeventsWriter.ts';

const EXPERIMENTS = 10;
const CLIPS = 120;
const STEPS = 200;
const STEPS_PER_EPOCH = 10;

function writeExperiment(root: string, name: string): void {
  const logs = path.join(root, 'logs', name);
  for (const sub of ['0_gt_wavs', '1_16k_wavs', '2a_f0', '2b-f0nsf', '3_feature768'])
    fs.mkdirSync(path.join(logs, sub), { recursive: true });
  for (let i = 0; i < CLIPS; i++) {
    fs.writeFileSync(path.join(logs, '0_gt_wavs', `${i}_1.wav`), 'RIFF');
    fs.writeFileSync(path.join(logs, '1_16k_wavs', `${i}_1.wav`), 'RIFF');
    fs.writeFileSync(path.join(logs, '2a_f0', `${i}_1.wav.npy`), 'NPY');
    fs.writeFileSync(path.join(logs, '2b-f0nsf', `${i}_1.wav.npy`), 'NPY');
  }
  for (let i = 0; i < 12; i++) fs.writeFileSync(path.join(logs, '3_feature768', `${i}_1.npy`), 'NPY');
  fs.writeFileSync(path.join(logs, 'config.json'), JSON.stringify({ data: { sampling_rate: 40000 }, train: { log_interval: 1 } }));
  fs.writeFileSync(path.join(logs, 'filelist.txt'), 'x|y|z|w|0\n');
  fs.writeFileSync(path.join(logs, 'preprocess.log'), 'start preprocess\n');
  fs.writeFileSync(path.join(logs, 'extract_f0_feature.log'), `infer/modules/train/extract/extract_f0_print.py ${logs} 2 rmvpe\n`);
  const lines = [`2026-11-23 06:00:35,511\t${name}\tINFO\t{'version': 'v2', 'sample_rate': '40k', 'if_f0': 1}`];
  const events: Uint8Array[] = [encodeEvent(1.7e9, 0, { fileVersion: 'brain.Event:2' })];
  for (let step = 0; step < STEPS; step++) {
    const epoch = Math.floor(step / STEPS_PER_EPOCH) + 1;
    const t = `2026-11-23 06:${String(Math.floor(step / 60) + 1).padStart(2, '0')}:${String(step % 60).padStart(2, '0')},000\t${name}\tINFO\t`;
    lines.push(
      `${t}Train Epoch: ${epoch} [0%]`,
      `${t}[${step}, 0.0001]`,
      `${t}loss_disc=4.000, loss_gen=3.000, loss_fm=2.000,loss_mel=20.000, loss_kl=1.000`,
    );
    events.push(
      encodeEvent(
        1.7e9 + step,
        step,
        ['loss/g/total', 'loss/d/total', 'loss/g/mel', 'grad_norm_g'].map((tag) => ({ tag, value: 30 - step / 10 })),
      ),
    );
  }
  lines.push(`2026-11-23 07:00:00,000\t${name}\tINFO\tTraining is done. The program is closed.`);
  fs.writeFileSync(path.join(logs, 'train.log'), lines.join('\n') + '\n');
  fs.writeFileSync(path.join(logs, 'events.out.tfevents.1700000000.bench.1.0'), Buffer.concat(events));
  for (let epoch = 5; epoch <= STEPS / STEPS_PER_EPOCH; epoch += 5) {
    fs.writeFileSync(path.join(logs, `G_${epoch * STEPS_PER_EPOCH}.pth`), 'PK');
    fs.writeFileSync(path.join(logs, `D_${epoch * STEPS_PER_EPOCH}.pth`), 'PK');
    fs.writeFileSync(path.join(root, 'assets', 'weights', `${name}_e${epoch}_s${epoch * STEPS_PER_EPOCH}.pth`), 'PK');
  }
  fs.writeFileSync(path.join(logs, `added_IVF37_Flat_nprobe_1_${name}_v2.index`), 'IDX');
  fs.writeFileSync(path.join(root, 'assets', 'weights', `${name}.pth`), 'PK');
}

function countFiles(dir: string): number {
  let n = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) n += countFiles(p);
    else {
      fs.statSync(p);
      n++;
    }
  }
  return n;
}

export async function run(): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rvc-bench-import-'));
  try {
    const rvc = path.join(dir, 'rvc');
    fs.mkdirSync(path.join(rvc, 'assets', 'weights'), { recursive: true });
    for (let i = 0; i < EXPERIMENTS; i++) writeExperiment(rvc, `voice-${i}`);
    const walk = timeMs(() => countFiles(path.join(rvc, 'logs')));
    const files = walk.result;
    const ws = path.join(dir, 'ws');
    fs.mkdirSync(ws);
    const store = Store.open(ws);
    const first = await timeMsAsync(() => importRvc(store, rvc));
    const points = first.result.trainings.reduce((s, t) => s + t.newPoints, 0);
    if (first.result.trainings.length !== EXPERIMENTS || !first.result.trainings.every((t) => t.status === 'finished')) {
      throw new Error('the synthetic install did not import as 10 finished trainings');
    }
    const again = await timeMsAsync(() => importRvc(store, rvc));
    store.close();
    return [
      {
        name: `import a logs folder of ${files} files (${EXPERIMENTS} experiments, ${points} metric points)`,
        value: first.ms / 1000,
        unit: 's',
        baseline: { name: 'readdir + stat of every file in the same tree', value: walk.ms / 1000 },
        ratio: walk.ms / first.ms,
      },
      { name: 're-import of the same folder (nothing new)', value: again.ms / 1000, unit: 's' },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
