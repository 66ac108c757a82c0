import * as fs from 'node:fs';
import { taskFiles, tasksDirOf } from '../../core/runner/processes.ts';
import { Runner } from '../../core/runner/runner.ts';
import { isFinal, TASK_STATUSES, type TaskStatus } from '../../core/store/vocabulary.ts';
import { taskReader, type TaskReader } from '../../core/runner/taskSnapshot.ts';
import { TrainingRepository } from '../../core/store/trainings.ts';
import { errorMessage, isUserErrorCode, msg, UserError, isMissingFile } from '../../core/util/errors.ts';
import type { CliCommand, CliContext } from '../command.ts';
import { describeTask, formatDuration, runUntilDone, taskJson } from './run.ts';

/** How often a worker checks that its workspace and store still exist (RVC_STUDIO_WORKER_CHECK_MS in tests). */
const WORKER_HEALTH_MS = Number(process.env.RVC_STUDIO_WORKER_CHECK_MS) > 0 ? Number(process.env.RVC_STUDIO_WORKER_CHECK_MS) : 2000;
/** Consecutive failed reads of the store before a worker gives up on it. */
const WORKER_READ_RETRIES = 3;

function readFrom(file: string, offset: number): { text: string; offset: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if (!isMissingFile(error)) throw error;
    return { text: '', offset }; // not created yet
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size <= offset) return { text: '', offset };
    const buffer = Buffer.alloc(size - offset);
    const read = fs.readSync(fd, buffer, 0, buffer.length, offset);
    return { text: buffer.subarray(0, read).toString('utf8'), offset: offset + read };
  } finally {
    fs.closeSync(fd);
  }
}

/** Prints the log as it grows until the task ends; woken by the tasks folder changing, not a busy loop. */
async function follow(ctx: CliContext, repo: TaskReader, id: string, write: (text: string) => void): Promise<void> {
  const file = taskFiles(ctx.openStore(), id).log;
  let offset = 0;
  await new Promise<void>((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    const finish = (): void => {
      watcher.close();
      for (const t of timers) clearInterval(t);
      resolve();
    };
    const pump = (): void => {
      const next = readFrom(file, offset);
      offset = next.offset;
      if (next.text) write(next.text);
      if (isFinal(repo.get(id).status)) {
        const rest = readFrom(file, offset);
        if (rest.text) write(rest.text);
        finish();
      }
    };
    fs.mkdirSync(tasksDirOf(ctx.openStore()), { recursive: true });
    const watcher = fs.watch(tasksDirOf(ctx.openStore()), () => pump());
    // The status changes in SQLite, which the folder watch does not see; a slow tick catches it.
    timers.push(setInterval(pump, 500));
    ctx.signal.addEventListener('abort', finish, { once: true });
    pump();
  });
}

export const TASK_COMMANDS: CliCommand[] = [
  {
    path: ['task', 'list'],
    usage: '[--training NAME] [--status queued|running|success|failed|cancelled] [--limit N]',
    summary: 'list pipeline tasks, newest first',
    options: { training: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } },
    run(ctx, { values }) {
      const store = ctx.openStore();
      const status = values.status;
      if (status !== undefined && !(TASK_STATUSES as readonly unknown[]).includes(status)) {
        throw new UserError(msg`--status must be one of ${TASK_STATUSES.join(', ')}.`, 'usage');
      }
      const limit = values.limit === undefined ? 50 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UserError(msg`--limit must be a positive whole number.`, 'usage');
      const trainingId =
        typeof values.training === 'string'
          ? new TrainingRepository(store).require(values.training, { includeDeleted: true }).id
          : undefined;
      const tasks = taskReader(store).list({
        ...(trainingId ? { trainingId } : {}),
        ...(status ? { status: status as TaskStatus } : {}),
        limit,
      });
      return { json: { tasks: tasks.map(taskJson) }, text: tasks.length ? tasks.map((t) => describeTask(t)) : 'no tasks' };
    },
  },
  {
    path: ['task', 'show'],
    usage: 'ID',
    summary: 'show a task: parameters, command, outcome and its notable log lines',
    positionals: { min: 1, max: 1 },
    run(ctx, { positionals }) {
      const repo = taskReader(ctx.openStore());
      const task = repo.resolve(positionals[0]!);
      const logs = repo.logs(task.id);
      const plan = task.snapshot.plan;
      const when = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
      return {
        json: { task: taskJson(task), logs },
        text: [
          describeTask(task),
          `  id:        ${task.id}`,
          `  engine:    ${task.snapshot.engine}${plan ? ` on ${plan.device.device}${plan.device.isHalf ? ' (half precision)' : ''}` : ''}`,
          `  created:   ${when(task.createdAt)}  started: ${when(task.startedAt)}  finished: ${when(task.finishedAt)}`,
          ...(task.progress !== null
            ? [`  progress:  ${task.progress}%${task.etaMs !== null ? `, ETA ${formatDuration(task.etaMs)}` : ''}`]
            : []),
          ...(task.exitCode !== null || task.exitSignal ? [`  exit:      ${task.exitSignal ?? task.exitCode}`] : []),
          ...(task.retryOf ? [`  retry of:  ${task.retryOf}`] : []),
          ...(plan
            ? [`  cwd:       ${plan.cwd}`, ...plan.processes.map((p) => `  command:   ${JSON.stringify([p.command, ...p.args])}`)]
            : []),
          `  params:    ${Object.entries(task.snapshot.params)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(' ')}`,
          ...(task.logPath ? [`  log:       ${task.logPath}`] : []),
          ...(task.errorMsg ? ['', task.errorMsg] : []),
          ...(logs.length ? ['', ...logs.map((l) => `${l.level.padEnd(5)} ${l.message}`)] : []),
        ],
      };
    },
  },
  {
    path: ['task', 'cancel'],
    usage: 'ID',
    summary: 'cancel a task (a running one: SIGTERM to its process group, SIGKILL after a grace period)',
    positionals: { min: 1, max: 1 },
    async run(ctx, { positionals }) {
      const runner = new Runner(ctx.openStore(), { settings: ctx.settings });
      const task = await runner.cancel(positionals[0]!);
      return { json: { task: taskJson(task) }, text: describeTask(task) };
    },
  },
  {
    path: ['task', 'retry'],
    usage: 'ID [--detach]',
    summary: 'run a failed or cancelled task again with the same parameters and command',
    positionals: { min: 1, max: 1 },
    options: { detach: { type: 'boolean' } },
    async run(ctx, { positionals, values }) {
      const runner = new Runner(ctx.openStore(), { settings: ctx.settings, only: new Set() });
      const task = runner.retry(positionals[0]!);
      if (values.detach === true) return { json: { tasks: [taskJson(task)] }, text: describeTask(task) };
      return runUntilDone(ctx, runner, [task.id]);
    },
  },
  {
    path: ['task', 'log'],
    usage: 'ID [--follow]',
    summary: "print a task's full log (stdout and stderr of its processes); --follow until it ends",
    positionals: { min: 1, max: 1 },
    options: { follow: { type: 'boolean' } },
    async run(ctx, { positionals, values }) {
      const repo = taskReader(ctx.openStore());
      const task = repo.resolve(positionals[0]!);
      const file = taskFiles(ctx.openStore(), task.id).log;
      if (values.follow === true && !ctx.json) {
        await follow(ctx, repo, task.id, (text) => process.stdout.write(text));
        return { json: null, text: '' };
      }
      const text = readFrom(file, 0).text;
      return { json: { task: taskJson(task), log: text }, text: text || '(the log is empty)' };
    },
  },
  {
    path: ['worker'],
    usage: '[--exit-when-idle]',
    summary: 'run the task queue in this terminal (what an open RVC Studio window does) until Ctrl-C',
    options: { 'exit-when-idle': { type: 'boolean' } },
    async run(ctx, { values }) {
      const store = ctx.openStore();
      const runner = new Runner(store, { settings: ctx.settings });
      ctx.info(`worker ${runner.runnerId} started; Ctrl-C stops it (running steps go on and are picked up again).`);
      const subscription = store.events.on('taskChanged', ({ taskId }) => {
        const task = runner.tasks.get(taskId);
        if (task.claimedBy === runner.runnerId && (task.status !== 'running' || task.pid === null)) ctx.info(describeTask(task));
      });
      runner.start();
      let failure: unknown;
      await new Promise<void>((resolve) => {
        const watching: { dispose(): void }[] = [];
        let stopped = false;
        const stop = (error?: unknown): void => {
          if (stopped) return;
          stopped = true;
          failure = error;
          for (const w of watching) w.dispose();
          resolve();
        };
        ctx.signal.addEventListener('abort', () => stop(), { once: true });
        // A worker outlives nothing it serves: it stops when its workspace or store file is gone, and
        // after a few failed reads of a database it has lost (disk error), never spinning on it.
        let failedReads = 0;
        const health = setInterval(() => {
          if (!fs.existsSync(ctx.workspaceDir) || !fs.existsSync(store.dbPath)) {
            stop(
              new UserError(
                msg`worker stopped: ${fs.existsSync(ctx.workspaceDir) ? `the store ${store.dbPath}` : `the workspace ${ctx.workspaceDir}`} is gone.`,
                'store-gone',
              ),
            );
            return;
          }
          try {
            runner.tasks.unfinishedCount();
            failedReads = 0;
          } catch (error) {
            if (isUserErrorCode(error, 'db-busy')) return;
            if (++failedReads >= WORKER_READ_RETRIES)
              stop(
                new UserError(msg`worker stopped: ${store.dbPath} cannot be read (${errorMessage(error)}).`, 'db-lost', { cause: error }),
              );
          }
        }, WORKER_HEALTH_MS);
        watching.push({ dispose: () => clearInterval(health) });
        if (values['exit-when-idle'] !== true) return;
        const idle = (): boolean => runner.tasks.unfinishedCount() === 0;
        const check = (): void => {
          if (!stopped && idle()) stop();
        };
        // Our own tasks end through taskChanged, other workers' through externalChange.
        watching.push(
          store.events.on('taskChanged', () => setImmediate(check)),
          store.events.on('externalChange', check),
        );
        check();
      });
      subscription.dispose();
      runner.stop();
      if (failure !== undefined) throw failure;
      const ran = runner.tasks.claimedBy(runner.runnerId);
      return { json: { runnerId: runner.runnerId, claimed: ran }, text: `worker stopped; it ran ${ran.length} task(s).` };
    },
  },
];
