import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Task } from '../../../src/core/runner/taskSnapshot.ts';
import { api, prepared, until } from './host.ts';

/** What the Tasks view's provider gives VS Code for a task's row. */
export async function taskRow(
  taskId: string,
): Promise<{ label: string; description: string; tooltip: string; icon: string; contextValue: string } | undefined> {
  const { ctx } = await api();
  const node = ctx.tasksView.rowsFor().find((n) => n.kind === 'task' && n.task.id === taskId);
  if (!node) return undefined;
  const item = ctx.tasksView.treeItemFor(node);
  return {
    label: typeof item.label === 'string' ? item.label : (item.label?.label ?? ''),
    description: typeof item.description === 'string' ? item.description : '',
    tooltip: item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : String(item.tooltip ?? ''),
    icon: item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : '',
    contextValue: item.contextValue ?? '',
  };
}

let asked = 0;
/**
 * Asks the outer runner (slurmChecks.mjs), which holds the test cluster and the browser page, to act
 * or to look: a console line out, its answer back as <rpc>/<id>.json. Throws with its error. The id
 * carries this extension host's pid: the reload phase's host asks in the same folder after phaseSlurm's.
 */
export async function ask<T extends object>(op: string, args: Record<string, unknown> = {}, timeoutMs = 40_000): Promise<T> {
  const id = `${process.pid}-${++asked}`;
  const file = path.join(prepared().slurm.rpc, `${id}.json`);
  console.log(`slurm-rpc ${JSON.stringify({ id, op, ...args })}`);
  const answer = await until(
    `the runner's answer to ${op}`,
    () => fs.existsSync(file) && (JSON.parse(fs.readFileSync(file, 'utf8')) as T | { error: string }),
    timeoutMs,
  );
  if ('error' in answer) throw new Error(`${op}: ${answer.error}`);
  return answer as T;
}

export async function runStep(training: string, step: string, set?: Record<string, string>): Promise<Task> {
  const [task] =
    ((await vscode.commands.executeCommand('rvcStudio.runStep', { training, step, ...(set ? { set } : {}) })) as Task[] | undefined) ?? [];
  assert.ok(task, `runStep queued no ${step}`);
  return task;
}

/** What phaseSlurm leaves for phaseSlurmReload: the train_model it left running on Slurm. */
export interface SlurmHandoff {
  taskId: string;
  jobId: string;
  runnerId: string;
  label: string;
  /** When phaseSlurm let go (its last test ended): the reload is timed from here. */
  leftAt: number;
}

/** Beside the rpc answers; slurmChecks.mjs runs the reload phase only when it is there. */
export function handoffFile(): string {
  return path.join(prepared().slurm.rpc, 'reload-handoff.json');
}
