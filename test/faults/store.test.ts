// Fault injection on the store: a full disk (a file-size limit on the writing process), a database
// locked by another process, a worker whose workspace disappears, and runners racing over one queue.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { taskFiles } from '../../src/core/runner/processes.ts';
import { taskReader } from '../../src/core/runner/taskSnapshot.ts';
import { sqlite } from '../../src/core/store/sqlite.ts';
import type { Store } from '../../src/core/store/store.ts';
import { cliEntry } from '../support/tempDir.ts';
import { makeBench, writeWorkspaceSettings, type Bench } from '../unit/runner/helpers.ts';

const support = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support');

function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function count(store: Store, sql: string, ...params: unknown[]): number {
  // A second connection, so what is counted is what was committed.
  const db = sqlite()(store.dbPath, { readonly: true });
  try {
    return db
      .prepare(sql)
      .pluck()
      .get(...params) as number;
  } finally {
    db.close();
  }
}

function integrity(store: Store): string {
  const db = sqlite()(store.dbPath, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

function cli(
  bench: Bench,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliEntry, '--workspace', bench.workspace, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

describe('faults: disk full, busy database, vanished workspace, racing runners', function () {
  this.timeout(60_000);
  let bench: Bench | undefined;
  afterEach(() => bench?.cleanup());

  for (const kind of ['task-log', 'metrics', 'store'] as const) {
    it(`disk full while writing a ${kind === 'task-log' ? 'task log batch' : kind === 'metrics' ? 'metric batch' : 'store row'}: a clear error, no partial row, integrity ok`, () => {
      bench = makeBench();
      bench.createTraining('full');
      // A metric batch comes from a training task's captured stdout, through the task log's reader.
      const [task] = bench.runner.enqueue('full', kind === 'metrics' ? 'train_model' : 'preprocess');
      const logFile = taskFiles(bench.store, task!.id).log;
      if (kind === 'metrics') {
        fs.mkdirSync(path.dirname(logFile), { recursive: true });
        const lines: string[] = [];
        for (let step = 1; step <= 6000; step++)
          lines.push(`INFO:full:[${step}, 0.0001]`, `INFO:full:loss_disc=3.1, loss_gen=2.5, loss_fm=7.1,loss_mel=20.5, loss_kl=1.2`);
        fs.writeFileSync(logFile, lines.join('\n') + '\n');
      }
      const before = {
        logs: count(bench.store, 'SELECT count(*) FROM task_logs'),
        metrics: count(bench.store, 'SELECT count(*) FROM metrics'),
        system: count(bench.store, 'SELECT count(*) FROM system_logs'),
      };
      // 256 KiB per file: the WAL cannot grow past it.
      const script = `trap '' XFSZ; ulimit -f 256; exec ${quote(process.execPath)} ${quote(path.join(support, 'diskFull.ts'))} ${quote(bench.workspace)} ${kind} ${task!.id}`;
      const result = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
      assert.equal(result.status, 1, result.stdout + result.stderr);
      assert.match(
        result.stdout,
        /^disk-full: Could not write .*studio\.db \(the disk is full( or a write failed)?\); nothing of this change was saved/,
      );
      assert.equal(count(bench.store, 'SELECT count(*) FROM task_logs'), before.logs, 'no task_logs row of the batch');
      assert.equal(count(bench.store, 'SELECT count(*) FROM metrics'), before.metrics, 'no metrics row of the batch');
      assert.equal(count(bench.store, 'SELECT count(*) FROM system_logs'), before.system, 'no system_logs row');
      assert.equal(count(bench.store, 'SELECT log_offset FROM training_tasks WHERE id = ?', task!.id), 0, 'the log position did not move');
      if (kind === 'metrics')
        assert.equal(
          count(bench.store, 'SELECT coalesce(max(byte_offset), 0) FROM metric_sources'),
          0,
          'the metrics position did not move',
        );
      assert.equal(integrity(bench.store), 'ok');
    });
  }

  it('a database locked by another process: the CLI waits for the lock, and past its busy timeout says so in one line', async () => {
    bench = makeBench();
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = require(${JSON.stringify(require_('better-sqlite3'))})(process.argv[1]); db.exec('BEGIN IMMEDIATE'); db.prepare("INSERT INTO system_logs (level, module, message, created_at) VALUES ('INFO', 'system', 'lock', 0)").run(); console.log('locked'); setTimeout(() => { db.exec('COMMIT'); process.exit(0); }, Number(process.argv[2]));`,
        bench.store.dbPath,
        '2500',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const holderExit = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const refused = await cli(bench, ['training', 'create', 'blocked', '--dataset', bench.dir], { RVC_STUDIO_BUSY_TIMEOUT_MS: '500' });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /studio\.db is busy: another process .* held its lock for more than 0\.5 s\. Try again when it is done\.\n$/,
    );
    assert.ok(refused.ms >= 450, `it waited (${refused.ms} ms)`);
    const waited = await cli(bench, ['training', 'create', 'patient', '--dataset', bench.dir], { RVC_STUDIO_BUSY_TIMEOUT_MS: '8000' });
    assert.equal(waited.code, 0, waited.stderr);
    await holderExit;
    assert.equal(bench.trainings.require('patient').name, 'patient');
  });

  it('a worker whose workspace folder is deleted exits with a message instead of running on', async () => {
    bench = makeBench();
    writeWorkspaceSettings(bench.workspace, bench.settings);
    const worker = cli(bench, ['worker'], { RVC_STUDIO_WORKER_CHECK_MS: '100' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    bench.store.close();
    fs.rmSync(bench.workspace, { recursive: true, force: true });
    const result = await worker;
    assert.equal(result.code, 1);
    assert.match(result.stderr, /worker stopped: the (workspace|store) .* is gone\./);
  });

  it('two workers, a CLI run and db check --repair racing over 50 tasks: each runs exactly once', async () => {
    const record = "require('fs').appendFileSync(process.argv[1], process.argv[2] + '\\n'); setTimeout(() => {}, 20)";
    bench = makeBench({
      settings: {
        'runner.engine': 'command',
        'queue.cpuConcurrency': 4,
        'command.templates': { preprocess: ['${node}', '-e', record, '${workspace}/ran.txt', '${taskId}'] },
      },
    });
    writeWorkspaceSettings(bench.workspace, bench.settings);
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      bench.createTraining(`race-${i}`, { files: 1 });
      if (i < 49) ids.push(bench.runner.enqueue(`race-${i}`, 'preprocess')[0]!.id);
    }
    const workers = [cli(bench, ['--json', 'worker', '--exit-when-idle']), cli(bench, ['--json', 'worker', '--exit-when-idle'])];
    const run = cli(bench, ['--json', 'run', 'race-49', 'preprocess']);
    let racing = true;
    const checks: Promise<void> = (async () => {
      while (racing) {
        const check = await cli(bench!, ['--json', 'db', 'check', '--repair']);
        assert.doesNotMatch(
          check.stdout,
          /task-process-gone|task-ended-unrecorded/,
          `db check never settles a live runner's task: ${check.stdout}`,
        );
      }
    })();
    const [a, b, ran] = await Promise.all([...workers, run]);
    racing = false;
    await checks;
    assert.equal(ran!.code, 0, ran!.stderr);
    ids.push((JSON.parse(ran!.stdout) as { tasks: { id: string }[] }).tasks[0]!.id);
    assert.equal(a!.code, 0, a!.stderr);
    assert.equal(b!.code, 0, b!.stderr);
    const lines = fs.readFileSync(path.join(bench.workspace, 'ran.txt'), 'utf8').split('\n').filter(Boolean);
    assert.deepEqual([...lines].sort(), [...ids].sort(), 'every task ran exactly once');
    const repo = taskReader(bench.store);
    const tasks = ids.map((id) => repo.get(id));
    assert.ok(
      tasks.every((t) => t.status === 'success'),
      tasks.map((t) => t.errorMsg).join('\n'),
    );
    assert.equal(integrity(bench.store), 'ok');
  });
});

function require_(name: string): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), '../../node_modules', name);
}
