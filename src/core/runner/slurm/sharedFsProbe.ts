import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { msg, UserError } from '../../util/errors.ts';
import type { SlurmClient } from './slurmClient.ts';
import { assessJob } from './jobState.ts';
import { shellWord } from './jobScript.ts';

export interface ProbeOptions {
  /** The folder the compute node must see: the workspace's .rvc-studio/tasks. */
  dir: string;
  /** #SBATCH lines the real jobs use too (partition, account, qos): the probe runs where they would. */
  sbatchLines?: string[];
  /** rvcStudio.slurm.setup: sourced first, as in the real jobs. */
  setup?: string[];
  /** How long to wait for the probe job to start and its file to appear. */
  timeoutMs?: number;
  /** After the job ended, how long a shared filesystem may take to show the file (NFS attribute cache). */
  graceMs?: number;
  pollMs?: number;
}

export interface ProbeResult {
  node: string;
  ms: number;
}

/**
 * Submits a tiny job that writes a file in `dir`, and checks the file appears here: a workspace on
 * a disk the compute nodes do not share would otherwise lose every log and exit record. Throws a
 * UserError saying what to change.
 */
export async function probeSharedFilesystem(client: SlurmClient, options: ProbeOptions): Promise<ProbeResult> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 120_000;
  const graceMs = options.graceMs ?? 5_000;
  const pollMs = options.pollMs ?? 250;
  fs.mkdirSync(options.dir, { recursive: true });
  const nonce = randomUUID();
  const marker = path.join(options.dir, `probe-${nonce}.ok`);
  const script = path.join(options.dir, `probe-${nonce}.sbatch`);
  if (/["\\\r\n\0]/.test(marker))
    throw new UserError(msg`The path ${JSON.stringify(marker)} cannot be written into a job script; move the workspace.`, 'bad-path');
  fs.writeFileSync(
    script,
    [
      '#!/bin/bash',
      '#SBATCH --job-name=rvc-probe',
      '#SBATCH --output=/dev/null',
      '#SBATCH --time=1',
      '#SBATCH --no-requeue',
      ...(options.sbatchLines ?? []).filter((line) => !/--(time|gres|output|job-name)=/.test(line)),
      ...(options.setup ?? []),
      `hostname > ${shellWord(marker)}`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const cleanup = (): void => {
    fs.rmSync(script, { force: true });
    fs.rmSync(marker, { force: true });
  };
  let jobId: string | undefined;
  try {
    jobId = await client.submit(script);
    let endedAt: number | undefined;
    let node = '';
    for (;;) {
      if (fs.existsSync(marker)) return { node: fs.readFileSync(marker, 'utf8').trim() || node, ms: Date.now() - started };
      if (endedAt === undefined) {
        const entry = (await client.queue([jobId])).get(jobId);
        const assessment = entry ? assessJob(entry.state, entry.reason) : { phase: 'ended' as const };
        if (entry?.nodes) node = entry.nodes;
        if (assessment.phase === 'ended') endedAt = Date.now();
      }
      if (endedAt !== undefined && Date.now() - endedAt > graceMs) {
        throw new UserError(
          msg`The probe job ${jobId} ran${node ? ` on ${node}` : ''} but the file it wrote in ${options.dir} never appeared here: the workspace is not on a filesystem the compute nodes share. Open a workspace on the shared filesystem (home, /scratch, …) or set rvcStudio.runner.executor to local.`,
          'slurm-not-shared',
        );
      }
      if (endedAt === undefined && Date.now() - started > timeoutMs) {
        throw new UserError(
          msg`The probe job ${jobId} did not run within ${Math.round(timeoutMs / 1000)} s, so RVC Studio cannot tell whether the compute nodes see this workspace; check the partition (rvcStudio.slurm.partition) with sinfo.`,
          'slurm-probe-timeout',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    if (jobId !== undefined) await client.cancel(jobId).catch(() => undefined);
    cleanup();
  }
}
