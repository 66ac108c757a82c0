import { Runner } from '../../core/runner/runner.ts';
import { isFinal, isStepType, STEP_TYPES, type StepType } from '../../core/store/vocabulary.ts';
import { parseSetOptions } from '../../core/runner/params.ts';
import type { Task } from '../../core/runner/taskSnapshot.ts';
import { TrainingRepository } from '../../core/store/trainings.ts';
import { msg, UserError } from '../../core/util/errors.ts';
import { slurmJobText } from '../../core/runner/slurm/jobState.ts';
import { dataMap } from '../jsonContract.ts';
import type { CliCommand, CliContext, CliResult } from '../command.ts';

export function describeTask(task: Task, trainingName?: string): string {
  const progress = task.progress !== null && task.status === 'running' ? ` ${Math.floor(task.progress)}%` : '';
  const eta = task.etaMs !== null && task.status === 'running' ? ` (ETA ${formatDuration(task.etaMs)})` : '';
  const error = task.errorMsg && task.status !== 'success' ? `  — ${task.errorMsg.split('\n')[0]}` : '';
  const slurm = task.slurm ? (task.status === 'running' ? ` [${slurmJobText(task.slurm)}]` : ` [job ${task.slurm.jobId}]`) : '';
  return `${task.id.slice(0, 8)}  ${(trainingName ?? task.snapshot.training.name).padEnd(16)} ${task.stepType.padEnd(15)} ${task.status}${progress}${eta}${slurm}${error}`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function taskJson(task: Task): Record<string, unknown> {
  const { trainingId, snapshot, ...rest } = task;
  return {
    ...rest,
    training: { id: trainingId, name: snapshot.training.name },
    // Parameters by the WebUI's names and the processes' environment are data: printed as they are.
    snapshot: {
      ...snapshot,
      training: { id: trainingId, ...snapshot.training },
      params: dataMap(snapshot.params),
      ...(snapshot.plan
        ? { plan: { ...snapshot.plan, processes: snapshot.plan.processes.map((p) => (p.env ? { ...p, env: dataMap(p.env) } : p)) } }
        : {}),
    },
    // Slurm tasks: the batch job, the last state read from Slurm and, while it waits, why (null for
    // local tasks). A short job can end between two polls, so a settled task has no pending reason.
    job_id: task.slurm?.jobId ?? null,
    slurm_state: task.slurm?.state ?? null,
    pending_reason: task.slurm && task.slurm.state === 'PENDING' && !isFinal(task.status) ? task.slurm.reason : null,
  };
}

/**
 * Runs RUNNER's queue in this process until the given tasks have ended, printing each change on
 * stderr for people; returns the tasks and exit code 1 when one did not succeed.
 */
export async function runUntilDone(ctx: CliContext, runner: Runner, ids: string[]): Promise<CliResult> {
  const seen = new Map<string, string>();
  const report = ({ taskId }: { taskId: string }): void => {
    if (!ids.includes(taskId)) return;
    const task = runner.tasks.get(taskId);
    const line = describeTask(task);
    const key = `${task.status}${task.progress === null ? '' : Math.floor(task.progress / 10)}`;
    if (seen.get(taskId) !== key) {
      seen.set(taskId, key);
      ctx.info(line);
    }
  };
  const subscription = runner.store.events.on('taskChanged', report);
  runner.start();
  try {
    const tasks = await runner.waitFor(ids, ctx.signal);
    const failed = tasks.filter((t) => t.status !== 'success');
    const text = tasks.map((t) => describeTask(t));
    for (const task of failed) if (task.errorMsg && task.errorMsg.includes('\n')) text.push('', `${task.stepType}: ${task.errorMsg}`);
    return { json: { tasks: tasks.map(taskJson) }, text, exitCode: failed.length ? 1 : 0 };
  } finally {
    subscription.dispose();
    runner.stop();
  }
}

export const RUN_COMMANDS: CliCommand[] = [
  {
    path: ['run'],
    usage: `NAME ${STEP_TYPES.join('|')}|all [--engine rvc|command] [--set key=value …] [--detach]`,
    summary: 'run a pipeline step (or all remaining ones) for a training; waits and exits 1 if one fails',
    positionals: { min: 2, max: 2 },
    options: {
      engine: { type: 'string' },
      set: { type: 'string', multiple: true },
      detach: { type: 'boolean' },
    },
    async run(ctx, { positionals, values }) {
      const [name, stepWord] = positionals as [string, string];
      if (stepWord !== 'all' && !isStepType(stepWord)) {
        throw new UserError(msg`"${stepWord}" is not a step; use one of ${STEP_TYPES.join(', ')} or all.`, 'usage');
      }
      const engine = values.engine;
      if (engine !== undefined && engine !== 'rvc' && engine !== 'command')
        throw new UserError(msg`--engine must be rvc or command, not "${String(engine)}".`, 'usage');
      const set = parseSetOptions(Array.isArray(values.set) ? values.set : []);
      const store = ctx.openStore();
      new TrainingRepository(store).require(name);
      const runner = new Runner(store, { settings: ctx.settings, only: new Set() });
      const tasks = runner.enqueue(
        name,
        stepWord as StepType | 'all',
        engine === 'rvc' || engine === 'command' ? { engine, set } : { set },
      );
      if (values.detach === true) {
        return {
          json: { tasks: tasks.map(taskJson) },
          text: [
            ...tasks.map((t) => describeTask(t)),
            'queued; an open RVC Studio window or "rvc-studio worker" runs them ("rvc-studio task list" shows them).',
          ],
        };
      }
      return runUntilDone(
        ctx,
        runner,
        tasks.map((t) => t.id),
      );
    },
  },
];
