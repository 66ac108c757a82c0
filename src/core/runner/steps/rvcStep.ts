import * as fs from 'node:fs';
import type { DeviceChoice } from '../device.ts';
import type { Judgement, StepContext } from '../engine.ts';
import type { ExitRecord } from '../processes.ts';
import { lastErrorLines } from '../progress.ts';
import type { TaskPlan, TaskProcess } from '../taskSnapshot.ts';

/** What every RVC step's plan starts from: the install, the experiment folder and the device. */
export interface RvcPlanBase {
  rvcRoot: string;
  /** RVC's logs/<name>, a link to the training's logs folder. */
  expDir: string;
  device: DeviceChoice;
  onCuda: boolean;
  /** `gpus` on CUDA, "" elsewhere. */
  gpus: string;
  /** Throws when a GPU id of `list` is not one the Python sees. */
  checkGpus(list: string, what: string): void;
  /** One process of RVC's Python with these arguments, in the RVC folder. */
  run(args: string[]): TaskProcess;
}

/** What the step's processes did: the plan they ran, how they ended and the end of their log. */
export interface StepRun {
  plan: TaskPlan;
  exit: ExitRecord;
  logTail: string;
  startedAt: number;
}

/** What every RVC step's plan expects: the install and the experiment folder. */
export type RvcExpect = {
  rvcRoot: string;
  expDir: string;
};

/**
 * One pipeline step on an RVC WebUI install: its processes and the facts its check needs
 * (`Expect`), what it needs on disk first, and whether what it wrote is a success.
 */
export interface RvcStep<Expect extends RvcExpect> {
  plan(ctx: StepContext, base: RvcPlanBase): { processes: TaskProcess[]; expect: Expect };
  /** The plan's stored facts read back (a plan comes back from the task's snapshot). */
  readExpect(expect: TaskPlan['expect']): Expect;
  /** Runs after the logs link exists; writes what the step reads (filelist.txt, a truncated log, …). */
  prepare(ctx: StepContext, plan: TaskPlan, expect: Expect): void;
  /** Runs when the processes started (exit.error is judged before). */
  judge(ctx: StepContext, run: StepRun, expect: Expect): Judgement;
}

/** A step with its Expect applied: what the engine's table holds, one per step type. */
export interface BoundStep {
  plan(ctx: StepContext, base: RvcPlanBase): { processes: TaskProcess[]; expect: RvcExpect };
  readExpect(expect: TaskPlan['expect']): RvcExpect;
  prepare(ctx: StepContext, plan: TaskPlan): void;
  judge(ctx: StepContext, run: StepRun): Judgement;
}

export function bindStep<Expect extends RvcExpect>(step: RvcStep<Expect>): BoundStep {
  return {
    plan: (ctx, base) => step.plan(ctx, base),
    readExpect: (expect) => step.readExpect(expect),
    prepare: (ctx, plan) => step.prepare(ctx, plan, step.readExpect(plan.expect)),
    judge: (ctx, run) => step.judge(ctx, run, step.readExpect(run.plan.expect)),
  };
}

/** A text field of a stored plan's facts; a plan without it was not made by this step. */
export function expectedText(expect: TaskPlan['expect'], key: string): string {
  const value = expect[key];
  if (typeof value !== 'string') throw new Error(`the task's plan has no ${key}`);
  return value;
}

/** A text field a stored plan may have. */
export function optionalText(expect: TaskPlan['expect'], key: string): string | undefined {
  const value = expect[key];
  return typeof value === 'string' ? value : undefined;
}

/** A list of names among a stored plan's facts; absent in plans from before it was recorded. */
export function expectedNames(expect: TaskPlan['expect'], key: string): string[] | undefined {
  const value = expect[key];
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
}

export function readRvcExpect(expect: TaskPlan['expect']): RvcExpect {
  return { rvcRoot: expectedText(expect, 'rvcRoot'), expDir: expectedText(expect, 'expDir') };
}

/** Python's spelling of a flag on RVC's command lines. */
export function bool(value: boolean): string {
  return value ? 'True' : 'False';
}

export function countFiles(dir: string, suffix: string): string[] {
  try {
    return fs.readdirSync(dir).filter((name) => name.endsWith(suffix));
  } catch {
    return [];
  }
}

export function failure(sentence: string, logTail: string, warnings: string[] = []): Judgement {
  const lines = lastErrorLines(logTail);
  return { ok: false, error: lines.length ? `${sentence}\n${lines.join('\n')}` : sentence, warnings };
}

export function exitNote(exit: ExitRecord): string {
  if (exit.error) return ` (${exit.error})`;
  if (exit.signal) return ` (killed by ${exit.signal})`;
  return exit.code ? ` (exit code ${exit.code})` : '';
}

export function newerThan(file: string, since: number): boolean {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return stat !== undefined && stat.mtimeMs >= since - 2000;
}

/** HuBERT's feature width: 256 for v1 models, 768 for v2. */
export function featureDim(version: string): 256 | 768 {
  return version === 'v1' ? 256 : 768;
}
