// Runner numbers: task start overhead and log-line-to-store latency, each against a baseline
// measured in the same run; and the argument lists the rvc engine builds next to the real run's.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runner } from '../../src/core/runner/runner.ts';
import { defaultSettings, type Settings } from '../../src/core/settings.ts';
import { databaseOf, Store } from '../../src/core/store/store.ts';
import { TrainingRepository } from '../../src/core/store/trainings.ts';
import { ourCommandLines, realCommandLines, REAL_DATASET, REAL_PYTHON, REAL_ROOT, REAL_RUN } from '../unit/runner/webuiCommands.ts';
import type { BenchResult } from './benchResult.ts';

const RUNS = 9;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** ms from spawning `node -e` until its first line of code runs: what any launcher pays at least. */
async function bareSpawnMs(): Promise<number> {
  const started = Date.now();
  const child = spawn(process.execPath, ['-e', 'console.log(Date.now())'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((resolve) => child.on('exit', resolve));
  return Number(out.trim()) - started;
}

/** ms from spawning the launcher script until the step it starts runs its first line. */
async function launcherOnlyMs(script: string, dir: string, i: number): Promise<number> {
  const base = path.join(dir, `launch-${path.basename(script)}-${i}`);
  const spec = {
    taskId: 'bench',
    cwd: dir,
    processes: [{ command: process.execPath, args: ['-e', 'console.log("started at " + Date.now())'] }],
    logPath: `${base}.log`,
    exitPath: `${base}.exit.json`,
    startedPath: `${base}.started.json`,
  };
  fs.writeFileSync(`${base}.spec.json`, JSON.stringify(spec));
  const started = Date.now();
  spawn(process.execPath, [script, `${base}.spec.json`], { detached: true, stdio: 'ignore' }).unref();
  while (!fs.existsSync(spec.exitPath)) await new Promise((resolve) => setTimeout(resolve, 5));
  return Number(/started at (\d+)/.exec(fs.readFileSync(spec.logPath, 'utf8'))![1]) - started;
}

/** ms from fs.appendFileSync to the fs.watch callback for that file's folder. */
async function watchLatencyMs(dir: string): Promise<number> {
  const file = path.join(dir, 'probe.log');
  return new Promise((resolve) => {
    let written = 0;
    const watcher = fs.watch(dir, () => {
      watcher.close();
      resolve(performance.now() - written);
    });
    written = performance.now();
    fs.appendFileSync(file, 'line\n');
  });
}

export async function run(): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rvc-studio-bench-runner-'));
  const results: BenchResult[] = [];
  try {
    const printStart = ['${node}', '-e', 'console.log("started at " + Date.now())'];
    // Wall-clock with sub-millisecond precision in both processes (timeOrigin + now()).
    const ticker = [
      '${node}',
      '-e',
      'let i = 0; const t = setInterval(() => { console.log("====> Epoch: " + (++i) + " at " + (performance.timeOrigin + performance.now())); if (i === 10) clearInterval(t); }, 50)',
    ];
    const settings: Settings = {
      ...defaultSettings(),
      'runner.engine': 'command',
      'queue.cpuConcurrency': 4,
      'command.templates': { preprocess: printStart, train_model: ticker },
    };
    const store = Store.open(dir);
    const trainings = new TrainingRepository(store);
    const runner = new Runner(store, { settings: () => settings });
    runner.start();

    const startDelays: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      trainings.create({ name: `start-${i}` });
      const enqueuedAt = Date.now();
      const [task] = runner.enqueue(`start-${i}`, 'preprocess');
      const [done] = await runner.waitFor([task!.id]);
      const log = fs.readFileSync(done!.logPath!, 'utf8');
      startDelays.push(Number(/started at (\d+)/.exec(log)![1]) - enqueuedAt);
    }
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) bare.push(await bareSpawnMs());
    const startMs = median(startDelays);
    const bareMs = median(bare);
    results.push({
      name: 'task start: enqueue → step code running (claim, launcher, child)',
      value: startMs,
      unit: 'ms',
      baseline: { name: 'bare spawn of node -e', value: bareMs },
      ratio: bareMs / startMs,
    });
    results.push({ name: 'task start overhead over a bare spawn', value: startMs - bareMs, unit: 'ms' });
    const bundled = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/workers/launcherWorker.js');
    const source = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/core/runner/launcherWorker.ts');
    const viaSource: number[] = [];
    for (let i = 0; i < RUNS; i++) viaSource.push(await launcherOnlyMs(source, dir, i));
    results.push({
      name: 'launcher (src .ts, as under tests) → step code running',
      value: median(viaSource),
      unit: 'ms',
      baseline: { name: 'bare spawn of node -e', value: bareMs },
      ratio: bareMs / median(viaSource),
    });
    if (fs.existsSync(bundled)) {
      const viaBundle: number[] = [];
      for (let i = 0; i < RUNS; i++) viaBundle.push(await launcherOnlyMs(bundled, dir, i));
      results.push({
        name: 'launcher (dist bundle, as in VS Code) → step code running',
        value: median(viaBundle),
        unit: 'ms',
        baseline: { name: 'bare spawn of node -e', value: bareMs },
        ratio: bareMs / median(viaBundle),
      });
    } else console.log('(no dist/workers/launcherWorker.js: run "node esbuild.mjs" to time the bundled launcher too)');

    const latencies: number[] = [];
    const t = trainings.create({ name: 'ticker' });
    trainings.update(t.id, { hasPreprocessed: true, hasExtracted: true });
    const subscription = store.events.on('taskLog', ({ lines }) => {
      const now = performance.timeOrigin + performance.now();
      for (const line of lines) {
        const m = / at ([\d.]+)$/.exec(line);
        if (m) latencies.push(now - Number(m[1]));
      }
    });
    const [ticking] = runner.enqueue('ticker', 'train_model');
    await runner.waitFor([ticking!.id]);
    subscription.dispose();
    const rows = databaseOf(store)
      .prepare("SELECT count(*) AS n FROM task_logs WHERE task_id = ? AND message LIKE '====> Epoch%'")
      .get(ticking!.id) as { n: number };
    const watch: number[] = [];
    for (let i = 0; i < RUNS; i++) watch.push(await watchLatencyMs(dir));
    const lineMs = median(latencies);
    const watchMs = median(watch);
    results.push({
      name: `log line → committed to task_logs and taskLog emitted (${latencies.length} lines, ${rows.n} rows)`,
      value: lineMs,
      unit: 'ms',
      baseline: { name: 'fs.watch notification of an append', value: watchMs },
      ratio: watchMs / Math.max(lineMs, 0.001),
    });
    runner.stop();
    store.close();

    if (fs.existsSync(REAL_RUN)) {
      const ours = ourCommandLines(path.join(dir, 'argv'));
      const real = realCommandLines();
      const mine = [...ours.lines.preprocess, ...ours.lines.extract_f0, ...ours.lines.extract_feature, ...ours.lines.train_model].map(
        (argv) =>
          argv.map((a) => a.replace(ours.rvc.python, REAL_PYTHON).replace(ours.rvc.root, REAL_ROOT).replace(ours.dataset, REAL_DATASET)),
      );
      console.log("\nrvc engine argument lists (paths mapped to the real run's) vs commands.txt:");
      mine.forEach((argv, i) => {
        const same = JSON.stringify(argv) === JSON.stringify(real[i]);
        console.log(`  ours: ${JSON.stringify(argv)}\n  real: ${JSON.stringify(real[i])}  ${same ? '= identical' : '≠ DIFFERENT'}`);
      });
      console.log(
        `  train_index (in-process in the WebUI; ours is a child): ${JSON.stringify(ours.lines.train_index[0]!.slice(1).map((a) => a.replace(ours.rvc.root, REAL_ROOT)))}`,
      );
    } else console.log('SKIP: ../shared/fixtures not found — no argument list comparison');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
