import * as fs from 'node:fs';
import * as path from 'node:path';
import { msg, UserError } from '../../util/errors.ts';
import { RVC_SCRIPTS } from '../rvcInstall.ts';
import { bool, countFiles, exitNote, failure, readRvcExpect, type RvcExpect, type RvcStep } from './rvcStep.ts';

/** RVC's f0 extraction: extract_f0_print.py on the CPU, or one extract_f0_rmvpe.py per rmvpe_gpu entry. */
export const extractF0Step: RvcStep<RvcExpect> = {
  plan(ctx, { rvcRoot, expDir, device, onCuda, checkGpus, run }) {
    const { params, training } = ctx;
    if (!params.if_f0) throw new UserError(msg`"${training.name}" has pitch guidance off (if_f0=0); it has no f0 to extract.`, 'no-f0');
    if (params.f0_method !== 'rmvpe_gpu') {
      return { processes: [run([RVC_SCRIPTS.extractF0, expDir, String(params.n_cpu), params.f0_method])], expect: { rvcRoot, expDir } };
    }
    if (!onCuda)
      throw new UserError(
        msg`rmvpe_gpu needs a CUDA card and this runs on ${device.device}; use f0 method rmvpe (CPU) instead.`,
        'no-cuda',
      );
    checkGpus(params.gpus_rmvpe, 'gpus_rmvpe');
    const parts = params.gpus_rmvpe.split('-').filter(Boolean);
    const processes = parts.map((gpu, i) =>
      run([RVC_SCRIPTS.extractF0Rmvpe, String(parts.length), String(i), gpu, expDir, bool(device.isHalf)]),
    );
    return { processes, expect: { rvcRoot, expDir } };
  },

  readExpect: readRvcExpect,

  prepare(ctx) {
    fs.writeFileSync(path.join(ctx.logsDir, 'extract_f0_feature.log'), '');
  },

  judge(ctx, { exit, logTail }) {
    const logs = ctx.logsDir;
    const wavs = countFiles(path.join(logs, '1_16k_wavs'), '.wav');
    const missing = wavs.filter(
      (w) => !fs.existsSync(path.join(logs, '2a_f0', `${w}.npy`)) || !fs.existsSync(path.join(logs, '2b-f0nsf', `${w}.npy`)),
    );
    if (exit.code !== 0 || wavs.length === 0 || missing.length > 0) {
      const what =
        wavs.length === 0
          ? 'there is no sliced audio in 1_16k_wavs (run preprocess again)'
          : `${missing.length} of ${wavs.length} sliced files have no f0${missing[0] ? ` (first: ${missing[0]})` : ''}`;
      return failure(`f0 extraction did not finish${exitNote(exit)}: ${what}.`, logTail);
    }
    return { ok: true, warnings: [] };
  },
};
