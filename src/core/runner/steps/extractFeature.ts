import * as fs from 'node:fs';
import * as path from 'node:path';
import { isCudaOom } from '../progress.ts';
import { RVC_SCRIPTS } from '../rvcInstall.ts';
import { bool, countFiles, exitNote, failure, featureDim, readRvcExpect, type RvcExpect, type RvcStep } from './rvcStep.ts';

/** RVC's extract_feature_print.py: HuBERT features of the sliced audio, one process per GPU. */
export const extractFeatureStep: RvcStep<RvcExpect> = {
  plan(ctx, { rvcRoot, expDir, device, gpus, checkGpus, run }) {
    const { params } = ctx;
    checkGpus(gpus, 'gpus');
    const parts = gpus ? gpus.split('-').filter(Boolean) : [''];
    const processes = parts.map((gpu, i) => {
      // With no GPU the WebUI's command has an empty i_gpu, which the shell drops: 6 arguments.
      const gpuArg = gpu === '' ? [] : [gpu];
      return run([
        RVC_SCRIPTS.extractFeature,
        device.device,
        String(parts.length),
        String(i),
        ...gpuArg,
        expDir,
        params.version,
        bool(device.isHalf),
      ]);
    });
    return { processes, expect: { rvcRoot, expDir } };
  },

  readExpect: readRvcExpect,

  prepare(ctx) {
    if (!ctx.params.if_f0) fs.writeFileSync(path.join(ctx.logsDir, 'extract_f0_feature.log'), '');
  },

  judge(ctx, { exit, logTail }, expect) {
    const logs = ctx.logsDir;
    const dim = featureDim(ctx.params.version);
    if (/Extracting is shut down because/.test(logTail)) {
      return failure(
        `RVC's HuBERT model assets/hubert/hubert_base.pt is missing in ${expect.rvcRoot}; download it (python tools/download_models.py) and run extract_feature again.`,
        logTail,
      );
    }
    const wavs = countFiles(path.join(logs, '1_16k_wavs'), '.wav');
    const missing = wavs.filter((w) => !fs.existsSync(path.join(logs, `3_feature${dim}`, w.replace(/\.wav$/, '.npy'))));
    if (isCudaOom(logTail))
      return failure('CUDA out of memory while extracting features — close other GPU programs or use another GPU.', logTail);
    if (exit.code !== 0 || wavs.length === 0 || missing.length > 0) {
      return failure(
        `feature extraction did not finish${exitNote(exit)}: ${missing.length} of ${wavs.length} sliced files have no 3_feature${dim} file.`,
        logTail,
      );
    }
    return { ok: true, warnings: [] };
  },
};
