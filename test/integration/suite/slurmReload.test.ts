import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { Task } from '../../../src/core/runner/taskSnapshot.ts';
import { api, metric, prepared, until } from './host.ts';
import { ask, handoffFile, taskRow, type SlurmHandoff } from './slurmRpc.ts';

export function slurmReloadTests(): void {
  describe('after a window reload, the train_model phaseSlurm left on Slurm', () => {
    const { partition } = prepared().slurm;
    const folder = async () => (await api()).ctx.stores.open()[0]!;
    const get = async (id: string): Promise<Task> => (await folder()).tasks!.get(id);
    let left: SlurmHandoff;

    before(async () => {
      left = JSON.parse(fs.readFileSync(handoffFile(), 'utf8')) as SlurmHandoff;
      await vscode.commands.executeCommand('rvcStudio.tasks.focus');
    });

    it("is re-attached by its job id: claimed by this window's runner, the same job RUNNING on Slurm, nothing resubmitted", async () => {
      const { runner } = await folder();
      assert.ok(runner?.isRunning, 'a trusted folder runs a runner');
      assert.notEqual(runner.runnerId, left.runnerId, 'a new extension host has a new runner');
      // Adopted at activation, or by the runner's sweep once the old extension host is gone.
      const task = await until(
        "this window's runner to claim the task",
        async () => {
          const t = await get(left.taskId);
          return t.claimedBy === runner.runnerId && t;
        },
        30_000,
      );
      metric('slurm-reload-to-reattached-ms', Date.now() - left.leftAt, 'ms');
      assert.equal(task.status, 'running', task.errorMsg ?? '');
      assert.equal(task.slurm?.jobId, left.jobId, 'the job id the task had before the reload');
      assert.equal(task.snapshot.slurm?.jobId, left.jobId);
      assert.equal(task.snapshot.slurm?.resubmittedFrom, undefined, 'not resubmitted');
      await until('the re-attached runner to read the job as RUNNING', async () => (await get(left.taskId)).slurm?.state === 'RUNNING');
      const { jobs } = await ask<{ jobs: { jobId: string; state: string; name: string }[] }>('jobs');
      assert.deepEqual(
        jobs.map((j) => [j.jobId, j.state]),
        [[left.jobId, 'RUNNING']],
        `squeue lists that one job and no other: ${JSON.stringify(jobs)}`,
      );
    });

    it('keeps advancing: its progress and log position grow under the new runner', async () => {
      const before = await get(left.taskId);
      const later = await until(
        'an epoch read by the new runner',
        async () => {
          const t = await get(left.taskId);
          return (t.progress ?? 0) > (before.progress ?? 0) && t.logOffset > before.logOffset && t;
        },
        20_000,
      );
      assert.equal(later.status, 'running');
      console.log(`progress ${before.progress?.toFixed(2)}% → ${later.progress?.toFixed(2)}%, log at ${later.logOffset} bytes`);
    });

    it(`its row reads "running … · job N on ${partition}", in the host and in the DOM`, async () => {
      const shows = (description: string): boolean =>
        /^running\b/.test(description) && description.endsWith(` · job ${left.jobId} on ${partition}`);
      const row = await until('the running row', async () => {
        const r = await taskRow(left.taskId);
        return r && shows(r.description) && r;
      });
      assert.equal(row.label, left.label);
      assert.equal(row.icon, 'sync~spin', 'a job running on the cluster has the spinner');
      assert.equal(row.contextValue, 'task.running', 'so the row offers Cancel');
      assert.ok(row.tooltip.includes(`Slurm: job ${left.jobId} on ${partition}\n`), row.tooltip);
      const dom = await ask<{ label: string; description: string }>('row', {
        label: left.label,
        pattern: `^running\\b.* · job ${left.jobId} on ${partition}$`,
        shot: 'slurm-tasks-reattached',
      });
      assert.equal(dom.label, left.label);
      assert.ok(shows(dom.description), dom.description);
    });

    it('Cancel Task: scancel, the task ends cancelled, squeue no longer lists the job, no job process is left', async function () {
      this.timeout(120_000);
      const { ctx } = await api();
      const node = ctx.tasksView.rowsFor().find((n) => n.kind === 'task' && n.task.id === left.taskId);
      assert.ok(node?.kind === 'task', 'the task has a row');
      const started = performance.now();
      // By task id, as a script calls it: a row node carries no `confirmed`, which answers the modal asked first.
      const cancelled = (await vscode.commands.executeCommand('rvcStudio.cancelTask', { taskId: node.task.id, confirmed: true })) as
        Task | undefined;
      metric('slurm-cancel-running-ms', performance.now() - started, 'ms');
      assert.equal(cancelled?.status, 'cancelled', cancelled?.errorMsg ?? '');
      const settled = await get(left.taskId);
      assert.equal(settled.status, 'cancelled');
      assert.equal(settled.slurm?.jobId, left.jobId);
      const gone = await ask<{ jobs: string[]; processes: number[]; ms: number }>('jobGone', { jobId: left.jobId }, 60_000);
      assert.deepEqual(gone.jobs, [], 'squeue lists no job');
      assert.deepEqual(gone.processes, [], 'no process of the job is left');
      console.log(
        `cancelled in ${Math.round(performance.now() - started)} ms; squeue empty and no job process ${gone.ms} ms after the ask`,
      );
      const row = await until('the cancelled row', async () => {
        const r = await taskRow(left.taskId);
        return r && /^cancelled\b/.test(r.description) && r;
      });
      assert.equal(row.contextValue, 'task.cancelled');
      assert.ok(row.tooltip.includes(`Slurm: job ${left.jobId} on ${partition}\n`), row.tooltip);
      const dom = await ask<{ description: string }>('row', { label: left.label, pattern: '^cancelled\\b', shot: 'slurm-tasks-cancelled' });
      assert.match(dom.description, /^cancelled\b/);
    });
  });
}
