import * as fs from 'node:fs';
import * as path from 'node:path';
import { msg, UserError } from '../util/errors.ts';
import type { Engine, Judgement, StepContext } from './engine.ts';
import { isCudaOom, lastErrorLines } from './progress.ts';
import { pythonOf } from './rvcInstall.ts';
import type { TaskPlan } from './taskSnapshot.ts';

/**
 * The values a template may use as ${name}: every run parameter (total_epoch, batch_size, …) plus
 * where things are. Unknown names are refused so a typo cannot become a literal "${nmae}" argument.
 */
export function templateValues(ctx: StepContext): Record<string, string> {
  const rvcRoot = ctx.settings['rvc.root'] || ctx.training.rvcRoot || '';
  const values: Record<string, string> = {
    python: pythonOf(ctx.settings, rvcRoot || undefined),
    rvcRoot,
    workspace: ctx.store.workspaceDir,
    name: ctx.training.name,
    logsDir: ctx.logsDir,
    dataset: ctx.training.datasetPath ?? '',
    sampleRateHz: String(ctx.training.targetSr),
    taskId: ctx.taskId,
    step: ctx.step,
    node: process.execPath,
  };
  for (const [key, value] of Object.entries(ctx.params)) values[key] = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
  return values;
}

export function expandTemplate(template: readonly string[], values: Record<string, string>, where: string): string[] {
  return template.map((part) =>
    part.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_match, name: string) => {
      const value = values[name];
      if (value === undefined) {
        throw new UserError(
          // The placeholder goes in as a value: "{" right before one would hide VS Code's {0} from its formatter.
          msg`${where} uses ${'${' + name + '}'}, which is not a known placeholder; known: ${Object.keys(values).sort().join(', ')}.`,
          'bad-template',
        );
      }
      return value;
    }),
  );
}

/**
 * Runs `rvcStudio.command.templates[step]`, an argument array such as
 * ["${python}", "core.py", "train", "--model_name", "${name}"], in the RVC folder (or the workspace).
 * Forks lay their files out differently, so success is the exit code, and a CUDA out-of-memory
 * trace fails the task even when the process exits 0.
 */
export const commandEngine: Engine = {
  name: 'command',

  plan(ctx: StepContext): TaskPlan {
    const templates = ctx.settings['command.templates'];
    const template = templates[ctx.step];
    const where = `rvcStudio.command.templates.${ctx.step}`;
    if (!Array.isArray(template) || template.length === 0 || !template.every((p) => typeof p === 'string')) {
      throw new UserError(
        msg`${where} is not set: give the step's command as an array of arguments, e.g. ["\${python}", "script.py", "\${logsDir}"].`,
        'no-template',
      );
    }
    const values = templateValues(ctx);
    const [command, ...args] = expandTemplate(template, values, where);
    const cwd = values.rvcRoot && fs.existsSync(values.rvcRoot) ? path.resolve(values.rvcRoot) : ctx.store.workspaceDir;
    return {
      cwd,
      processes: [{ command: command!, args }],
      device: { device: 'as the command decides', isHalf: false, source: 'setting' },
      expect: {},
    };
  },

  prepare(ctx: StepContext): void {
    fs.mkdirSync(ctx.logsDir, { recursive: true });
  },

  judge(_ctx, _plan, exit, logTail): Judgement {
    const lines = lastErrorLines(logTail);
    const withLines = (sentence: string): string => (lines.length ? `${sentence}\n${lines.join('\n')}` : sentence);
    if (exit.error) return { ok: false, error: withLines(`The command could not start: ${exit.error}.`), warnings: [] };
    if (isCudaOom(logTail))
      return { ok: false, error: withLines('CUDA out of memory — lower the batch size and run the step again.'), warnings: [] };
    if (exit.code !== 0 || exit.signal) {
      return {
        ok: false,
        error: withLines(`The command failed (${exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`}).`),
        warnings: [],
      };
    }
    return { ok: true, warnings: [] };
  },
};
