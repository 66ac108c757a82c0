import * as path from 'node:path';
import { msg, UserError } from '../util/errors.ts';
import { resolveInside } from '../util/paths.ts';
import type { Engine, StepContext } from './engine.ts';
import { ensureLogsLink, pythonOf, rvcRootOf } from './rvcInstall.ts';
import type { StepType } from '../store/vocabulary.ts';
import { extractF0Step } from './steps/extractF0.ts';
import { extractFeatureStep } from './steps/extractFeature.ts';
import { preprocessStep } from './steps/preprocess.ts';
import { bindStep, failure, type BoundStep, type RvcPlanBase } from './steps/rvcStep.ts';
import { trainIndexStep } from './steps/trainIndex.ts';
import { trainModelStep } from './steps/trainModel.ts';
import type { TaskPlan } from './taskSnapshot.ts';

export { AUDIO_EXTENSIONS, listDataset, pythonOf, RVC_SCRIPTS, rvcRootOf } from './rvcInstall.ts';
export { preprocessResults } from './steps/preprocess.ts';
export { buildFilelist, buildTrainConfig, configChoice } from './steps/trainModel.ts';

/** The five steps as the RVC WebUI runs them, one module each. */
const RVC_STEPS: { readonly [S in StepType]: BoundStep } = {
  preprocess: bindStep(preprocessStep),
  extract_f0: bindStep(extractF0Step),
  extract_feature: bindStep(extractFeatureStep),
  train_model: bindStep(trainModelStep),
  train_index: bindStep(trainIndexStep),
};

/** The install, the experiment folder and the device every step's plan starts from. */
function planBase(ctx: StepContext): RvcPlanBase {
  const rvcRoot = rvcRootOf(ctx.settings, ctx.training.rvcRoot);
  const python = pythonOf(ctx.settings, rvcRoot);
  const device = ctx.device();
  const onCuda = device.device.startsWith('cuda');
  return {
    rvcRoot,
    expDir: resolveInside(path.join(rvcRoot, 'logs'), ctx.training.name),
    device,
    onCuda,
    gpus: onCuda ? ctx.params.gpus : '',
    checkGpus(list, what) {
      if (!onCuda || device.gpuCount === null) return;
      for (const id of list.split('-').filter(Boolean)) {
        if (Number(id) >= device.gpuCount) {
          throw new UserError(
            msg`GPU ${id} (${what}) does not exist: the Python sees ${device.gpuCount} CUDA card${device.gpuCount === 1 ? '' : 's'} (numbered from 0).`,
            'bad-gpu',
          );
        }
      }
    },
    run: (args) => ({ command: python, args }),
  };
}

export const rvcEngine: Engine = {
  name: 'rvc',

  plan(ctx: StepContext): TaskPlan {
    const base = planBase(ctx);
    const { processes, expect } = RVC_STEPS[ctx.step].plan(ctx, base);
    const { device, isHalf, source } = base.device;
    return { cwd: base.rvcRoot, device: { device, isHalf, source }, processes, expect };
  },

  prepare(ctx: StepContext, plan: TaskPlan): void {
    const step = RVC_STEPS[ctx.step];
    ensureLogsLink(step.readExpect(plan.expect).rvcRoot, ctx.training.name, ctx.logsDir);
    step.prepare(ctx, plan);
  },

  judge(ctx, plan, exit, logTail, startedAt) {
    if (exit.error) return failure(`The step could not start: ${exit.error}. Check rvcStudio.rvc.pythonPath.`, logTail);
    return RVC_STEPS[ctx.step].judge(ctx, { plan, exit, logTail, startedAt });
  },
};
