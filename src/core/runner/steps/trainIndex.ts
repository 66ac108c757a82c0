import * as fs from 'node:fs';
import * as path from 'node:path';
import { pythonScript } from '../device.ts';
import { countFiles, exitNote, failure, newerThan, readRvcExpect, type RvcExpect, type RvcStep } from './rvcStep.ts';

/** Our train_index.py (the WebUI's train_index as a script): the faiss index, kept in logs and assets/indices. */
export const trainIndexStep: RvcStep<RvcExpect> = {
  plan(ctx, { rvcRoot, expDir, run }) {
    const { params, training } = ctx;
    const outside = path.join(rvcRoot, 'assets', 'indices');
    const args = [pythonScript('train_index.py'), expDir, training.name, params.version, outside, String(params.n_cpu)];
    return { processes: [run(args)], expect: { rvcRoot, expDir } };
  },

  readExpect: readRvcExpect,

  prepare(_ctx, _plan, { rvcRoot }) {
    fs.mkdirSync(path.join(rvcRoot, 'assets', 'indices'), { recursive: true });
  },

  judge(ctx, { exit, logTail, startedAt }) {
    const logs = ctx.logsDir;
    if (/No module named '?faiss/.test(logTail))
      return failure(`The Python has no faiss: install faiss-cpu into RVC's environment (pip install faiss-cpu).`, logTail);
    const index = countFiles(logs, '.index').find(
      (f) =>
        f.startsWith('added_') &&
        f.endsWith(`_${ctx.training.name}_${ctx.params.version}.index`) &&
        newerThan(path.join(logs, f), startedAt),
    );
    if (exit.code !== 0 || !index)
      return failure(`The index was not built${exitNote(exit)}: no added_*.index appeared in ${logs}.`, logTail);
    return { ok: true, warnings: [] };
  },
};
