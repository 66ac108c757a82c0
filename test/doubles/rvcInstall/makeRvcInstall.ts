// TEST DOUBLE of an RVC WebUI install: builds one in a folder (see README.md).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface DoubleKnobs {
  cuda?: boolean;
  gpus?: { index: number; name: string; memGb: number }[];
  epochMs?: number;
  noTorch?: boolean;
  logInterval?: number;
}

export interface RvcInstallDouble {
  root: string;
  python: string;
}

const SCRIPTS = [
  'infer-web.py',
  'infer/modules/train/preprocess.py',
  'infer/modules/train/extract/extract_f0_print.py',
  'infer/modules/train/extract/extract_f0_rmvpe.py',
  'infer/modules/train/extract_feature_print.py',
  'infer/modules/train/train.py',
];

export function makeRvcInstall(root: string, knobs: DoubleKnobs = {}): RvcInstallDouble {
  for (const script of SCRIPTS) {
    fs.mkdirSync(path.dirname(path.join(root, script)), { recursive: true });
    fs.writeFileSync(path.join(root, script), '# TEST DOUBLE: bin/python runs fakePython.mjs in place of this script\n');
  }
  fs.cpSync(path.join(here, 'configs'), path.join(root, 'configs'), { recursive: true });
  fs.mkdirSync(path.join(root, 'assets', 'hubert'), { recursive: true });
  fs.writeFileSync(path.join(root, 'assets', 'hubert', 'hubert_base.pt'), 'placeholder (test double)');
  const mute = path.join(root, 'logs', 'mute');
  for (const dir of ['0_gt_wavs', '3_feature256', '3_feature768', '2a_f0', '2b-f0nsf'])
    fs.mkdirSync(path.join(mute, dir), { recursive: true });
  for (const sr of ['32k', '40k', '48k']) fs.writeFileSync(path.join(mute, '0_gt_wavs', `mute${sr}.wav`), 'mute');
  for (const file of ['3_feature256/mute.npy', '3_feature768/mute.npy', '2a_f0/mute.wav.npy', '2b-f0nsf/mute.wav.npy'])
    fs.writeFileSync(path.join(mute, file), 'mute');
  fs.writeFileSync(path.join(root, 'double.json'), JSON.stringify(knobs));
  const python = path.join(root, 'bin', 'python');
  fs.mkdirSync(path.dirname(python), { recursive: true });
  const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
  fs.writeFileSync(python, `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(path.join(here, 'fakePython.mjs'))} "$@"\n`, {
    mode: 0o755,
  });
  return { root, python };
}

export function setKnobs(root: string, knobs: DoubleKnobs): void {
  fs.writeFileSync(path.join(root, 'double.json'), JSON.stringify(knobs));
}

/** A dataset folder of tiny audio files (the double only needs them to exist). */
export function makeDataset(dir: string, count: number, extra: (dir: string) => void = () => undefined): string {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 1; i <= count; i++) fs.writeFileSync(path.join(dir, `alto_${String(i).padStart(2, '0')}.wav`), 'RIFF (test double audio)');
  extra(dir);
  return dir;
}
