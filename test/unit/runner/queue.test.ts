import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { taskReader, type Task } from '../../../src/core/runner/taskSnapshot.ts';
import { cliEntry } from '../../support/tempDir.ts';
import { makeBench, writeWorkspaceSettings, type Bench } from './helpers.ts';

/** Largest number of [start, end) intervals open at once. */
function maxOverlap(intervals: [number, number][]): number {
  const events = intervals.flatMap(([s, e]) => [[s, 1] as const, [e, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  for (const [, delta] of events) max = Math.max(max, (open += delta));
  return max;
}

function runWorker(bench: Bench): Promise<{ code: number | null; claimed: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliEntry, '--workspace', bench.workspace, '--json', 'worker', '--exit-when-idle'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        resolve({ code, claimed: (JSON.parse(out) as { claimed: string[] }).claimed });
      } catch (error) {
        reject(new Error(`worker printed ${out}: ${String(error)}`));
      }
    });
  });
}

describe('runner: the queue', function () {
  this.timeout(60_000);
  let bench: Bench;
  afterEach(() => bench.cleanup());

  it('two worker processes racing over 20 queued tasks run each exactly once, at most cpuConcurrency at a time', async () => {
    const record = "require('fs').appendFileSync(process.argv[1], process.argv[2] + '\\n'); setTimeout(() => {}, 40)";
    bench = makeBench({
      settings: {
        'runner.engine': 'command',
        'queue.cpuConcurrency': 3,
        'command.templates': { preprocess: ['${node}', '-e', record, '${workspace}/ran.txt', '${taskId}'] },
      },
    });
    writeWorkspaceSettings(bench.workspace, bench.settings);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      bench.createTraining(`race-${i}`, { files: 1 });
      ids.push(bench.runner.enqueue(`race-${i}`, 'preprocess')[0]!.id);
    }
    const [a, b] = await Promise.all([runWorker(bench), runWorker(bench)]);
    console.log(`      (worker A claimed ${a.claimed.length}, worker B ${b.claimed.length})`);
    assert.equal(a.code, 0);
    assert.equal(b.code, 0);
    const ran = fs.readFileSync(path.join(bench.workspace, 'ran.txt'), 'utf8').split('\n').filter(Boolean);
    assert.deepEqual([...ran].sort(), [...ids].sort(), 'every task ran exactly once');
    assert.deepEqual([...a.claimed, ...b.claimed].sort(), [...ids].sort(), 'each task was claimed by exactly one worker');
    const repo = taskReader(bench.store);
    const tasks = ids.map((id) => repo.get(id));
    assert.ok(
      tasks.every((t) => t.status === 'success'),
      tasks.map((t) => t.errorMsg).join('\n'),
    );
    assert.ok(maxOverlap(tasks.map((t) => [t.startedAt!, t.finishedAt!])) <= 3, 'never more than 3 CPU steps at once across both workers');
  });

  it("holds one GPU step per GPU id, runs a training's steps in order, and a chain stops at its first failure", async () => {
    const sleep =
      "require('fs').appendFileSync(process.argv[1], process.argv[2] + ' ' + Date.now() + ' start\\n'); setTimeout(() => require('fs').appendFileSync(process.argv[1], process.argv[2] + ' ' + Date.now() + ' end\\n'), 150)";
    bench = makeBench({
      settings: {
        'runner.engine': 'command',
        'queue.cpuConcurrency': 4,
        'command.templates': {
          train_model: ['${node}', '-e', sleep, '${workspace}/gpu.txt', '${name}'],
          train_index: ['${node}', '-e', sleep, '${workspace}/gpu.txt', '${name}-index'],
          preprocess: ['${node}', '-e', 'process.exit(3)'],
        },
      },
    });
    for (const [name, gpu] of [
      ['a', '0'],
      ['b', '0'],
      ['c', '1'],
    ] as const) {
      const t = bench.createTraining(name);
      bench.trainings.update(t.id, { hasPreprocessed: true, hasExtracted: true, gpuId: gpu, status: 'ready' });
    }
    const queued: Task[] = ['a', 'b', 'c'].flatMap((name) => [
      ...bench.runner.enqueue(name, 'train_model'),
      ...bench.runner.enqueue(name, 'train_index'),
    ]);
    assert.deepEqual(
      queued.map((t) => t.gpuId),
      ['0', null, '0', null, '1', null],
    );
    bench.createTraining('chain');
    const chain = bench.runner.enqueue('chain', 'all');
    bench.runner.start();
    const done = await bench.runner.waitFor([...queued, ...chain].map((t) => t.id));
    const lines = fs
      .readFileSync(path.join(bench.workspace, 'gpu.txt'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '));
    const span = (name: string): [number, number] => [
      Number(lines.find((l) => l[0] === name && l[2] === 'start')![1]),
      Number(lines.find((l) => l[0] === name && l[2] === 'end')![1]),
    ];
    const [a, b] = [span('a'), span('b')];
    assert.ok(a[1] <= b[0] || b[1] <= a[0], 'a and b share GPU 0 and never overlap');
    assert.ok(span('a-index')[0] >= a[1], "a training's index waits for its training");
    const chainTasks = done.slice(queued.length);
    assert.deepEqual(
      chainTasks.map((t) => t.status),
      ['failed', 'cancelled', 'cancelled', 'cancelled', 'cancelled'],
    );
    assert.match(chainTasks[0]!.errorMsg!, /^The command failed \(exit code 3\)\./);
    assert.match(chainTasks[1]!.errorMsg!, /preprocess before it in the chain failed/);
    assert.throws(() => bench.runner.enqueue('a', 'train_model').concat(bench.runner.enqueue('a', 'train_model')), /already queued/);
  });
});
