import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Settings } from '../../settings.ts';
import { msg, UserError } from '../../util/errors.ts';
import type { LaunchProcess } from '../launcherWorker.ts';
import { writeLaunchSpec, type TaskFiles } from '../processes.ts';
import type { StepType } from '../../store/vocabulary.ts';

/** What Slurm is asked for, from the `rvcStudio.slurm.*` settings; every value is validated. */
export interface JobResources {
  partition: string;
  account: string;
  qos: string;
  time: string;
  gpus: number;
  cpus: number | null;
  mem: string;
  extraArgs: string[];
  setup: string[];
}

export interface JobScriptInput {
  taskId: string;
  step: StepType;
  /** Does the step hold a GPU (usesGpu)? Only then is --gres=gpu:N asked for. */
  gpuBound: boolean;
  files: TaskFiles;
  plan: { cwd: string; processes: LaunchProcess[] };
  settings: Settings;
  /** Node and the launcher as the compute node sees them; default: this process's own. */
  nodePath: string;
  launcherPath: string;
}

export interface JobScriptFiles {
  script: string;
  /** Slurm's own stdout/stderr of the batch script; the step's log is the task's .log as locally. */
  slurmOut: string;
}

export function jobScriptFiles(files: TaskFiles, taskId: string): JobScriptFiles {
  return { script: path.join(files.dir, `${taskId}.sbatch`), slurmOut: path.join(files.dir, `${taskId}.slurm.out`) };
}

const NAME = /^[A-Za-z0-9_.+-]+(,[A-Za-z0-9_.+-]+)*$/;
// Slurm's --time: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS.
const TIME = /^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2}|UNLIMITED|INFINITE)$/i;
const MEM = /^\d+[KMGT]?$/i;
const OPTION = /^--?[A-Za-z][A-Za-z0-9-]*(=[^\s"'\\]+)?$/;
/** Options the executor sets itself: overriding them would lose the log or the job id. */
const RESERVED = new Set(['--output', '-o', '--error', '-e', '--chdir', '-D', '--parsable', '--wrap', '--job-name', '-J', '--array', '-a']);

function refuse(key: string, value: unknown, what: string): never {
  throw new UserError(msg`rvcStudio.slurm.${key} ${JSON.stringify(value)} is not ${what}.`, 'bad-settings');
}

/** Reads and validates the Slurm settings for one step; nothing unchecked reaches an #SBATCH line. */
export function jobResources(settings: Settings, step: StepType, gpuBound: boolean): JobResources {
  const text = (key: 'partition' | 'account' | 'qos'): string => {
    const value = settings[`slurm.${key}`].trim();
    if (value && !NAME.test(value)) refuse(key, value, 'a Slurm name (letters, digits, . _ + -, comma-separated)');
    return value;
  };
  const time = settings['slurm.time'].trim();
  if (time && !TIME.test(time)) refuse('time', time, 'a Slurm time (minutes, HH:MM:SS or D-HH:MM:SS)');
  const gpus = settings['slurm.gpusPerStep'];
  if (!Number.isInteger(gpus) || gpus < 0 || gpus > 64) refuse('gpusPerStep', gpus, 'a whole number of GPUs from 0 to 64');
  const cpus = settings['slurm.cpus'][step] ?? null;
  if (cpus !== null && (!Number.isInteger(cpus) || cpus < 1 || cpus > 4096)) refuse(`cpus.${step}`, cpus, 'a whole number of CPUs');
  const mem = String(settings['slurm.mem'][step] ?? '').trim();
  if (mem && !MEM.test(mem)) refuse(`mem.${step}`, mem, 'a Slurm memory size such as 16G or 16000M');
  const extraArgs = settings['slurm.extraArgs'].map((arg) => {
    if (typeof arg !== 'string' || !OPTION.test(arg))
      refuse('extraArgs', arg, 'one sbatch option per item, written --name=value without spaces or quotes');
    if (RESERVED.has(arg.split('=')[0]!)) refuse('extraArgs', arg, 'allowed: RVC Studio sets that option itself');
    return arg;
  });
  const setup = settings['slurm.setup'].map((line) => {
    if (typeof line !== 'string' || /[\r\n\0]/.test(line)) refuse('setup', line, 'one shell line per item');
    return line;
  });
  return {
    partition: text('partition'),
    account: text('account'),
    qos: text('qos'),
    time,
    gpus: gpuBound ? gpus : 0,
    cpus,
    mem,
    extraArgs,
    setup,
  };
}

/** A path inside #SBATCH "…": sbatch honours double quotes there, and % starts a filename pattern. */
function sbatchPath(file: string, forOutput: boolean): string {
  if (/["\r\n\0]/.test(file))
    throw new UserError(
      msg`The path ${JSON.stringify(file)} cannot be handed to Slurm (it holds a quote or a line break); move the workspace.`,
      'bad-path',
    );
  return `"${forOutput ? file.replaceAll('%', '%%') : file}"`;
}

/** A single-quoted shell word. */
export function shellWord(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** The job's name: what finds it again when its id was never recorded (a runner killed right after sbatch). */
export function jobName(step: StepType, taskId: string): string {
  return `rvc-${step}-${taskId.slice(0, 8)}`;
}

/** The #SBATCH lines, in a fixed order. */
export function sbatchLines(input: Pick<JobScriptInput, 'taskId' | 'step' | 'plan'>, resources: JobResources, out: string): string[] {
  const lines = [
    `--job-name=${jobName(input.step, input.taskId)}`,
    `--output=${sbatchPath(out, true)}`,
    `--chdir=${sbatchPath(input.plan.cwd, false)}`,
    // The executor decides what a failed or pre-empted job becomes; Slurm re-running the launcher
    // behind its back would overwrite the task's exit record.
    '--no-requeue',
  ];
  if (resources.partition) lines.push(`--partition=${resources.partition}`);
  if (resources.account) lines.push(`--account=${resources.account}`);
  if (resources.qos) lines.push(`--qos=${resources.qos}`);
  if (resources.time) lines.push(`--time=${resources.time}`);
  if (resources.gpus > 0) lines.push(`--gres=gpu:${resources.gpus}`);
  if (resources.cpus !== null) lines.push(`--cpus-per-task=${resources.cpus}`);
  if (resources.mem) lines.push(`--mem=${resources.mem}`);
  lines.push(...resources.extraArgs);
  return lines.map((line) => `#SBATCH ${line}`);
}

/**
 * Writes the launcher's spec (as a local launch does) and, next to it, <taskId>.sbatch: the job
 * script that runs the same launcher on the compute node, so the log and the exit record land in
 * the workspace's .rvc-studio/tasks/ on the shared filesystem.
 */
export function writeJobScript(input: JobScriptInput): JobScriptFiles & { resources: JobResources } {
  const { files, taskId, plan } = input;
  const resources = jobResources(input.settings, input.step, input.gpuBound);
  const out = jobScriptFiles(files, taskId);
  for (const file of [input.nodePath, input.launcherPath, files.spec, files.log, files.exit]) {
    if (/["\\\r\n\0]/.test(file))
      throw new UserError(
        msg`The path ${JSON.stringify(file)} cannot be written into a job script (it holds a quote, a backslash or a line break); move it.`,
        'bad-path',
      );
  }
  writeLaunchSpec(files, taskId, plan, [out.slurmOut]);

  // When node or the launcher is missing on the compute node, say so in the task's log and exit
  // record, the places the user already looks, instead of only in Slurm's output file.
  const missing = (what: string): string =>
    `  echo "[rvc-studio] $(hostname): ${what}" >> "$LOG"\n` +
    `  printf '{"code":127,"signal":null,"finishedAt":%s000,"error":"%s","processes":[]}\\n' "$(date +%s)" "$(hostname): ${what}" > "$EXIT.tmp" && mv "$EXIT.tmp" "$EXIT"\n` +
    '  exit 127\n';
  const script = [
    '#!/bin/bash',
    `# Written by RVC Studio for task ${taskId} (${input.step}). It runs the task's launcher on the compute node;`,
    '# the step log and exit record go to the files next to this one, as for a local run.',
    ...sbatchLines(input, resources, out.slurmOut),
    '',
    ...(resources.setup.length > 0 ? ['# rvcStudio.slurm.setup', ...resources.setup, ''] : []),
    `NODE=${shellWord(input.nodePath)}`,
    `LAUNCHER=${shellWord(input.launcherPath)}`,
    `SPEC=${shellWord(files.spec)}`,
    `LOG=${shellWord(files.log)}`,
    `EXIT=${shellWord(files.exit)}`,
    'echo "[rvc-studio] slurm job ${SLURM_JOB_ID:-?} on $(hostname), CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-}" >> "$LOG"',
    'if [ ! -x "$NODE" ]; then',
    missing('node is not at $NODE on this node: set rvcStudio.slurm.nodePath to a Node the compute nodes can run') + 'fi',
    'if [ ! -f "$LAUNCHER" ]; then',
    missing('the launcher $LAUNCHER is not visible on this node: install the extension on a filesystem the nodes share') + 'fi',
    'export ELECTRON_RUN_AS_NODE=1',
    'exec "$NODE" "$LAUNCHER" "$SPEC"',
    '',
  ].join('\n');
  fs.writeFileSync(out.script, script, { mode: 0o755 });
  return { ...out, resources };
}
