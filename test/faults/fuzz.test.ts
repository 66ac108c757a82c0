// Property-based fuzzing (fast-check) of every reader of untrusted bytes: random and mutated valid
// inputs never crash, hang or grow memory without bound; they give a result or a clear UserError.
// `npm test` runs a bounded number of inputs per reader; `npm run fuzz` runs many more.
// A failure prints fast-check's seed and path: rerun with RVC_STUDIO_FUZZ_SEED=<seed>.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { parseIvfFlatIndex } from '../../src/core/inference/faissIndex.ts';
import { parseNpy } from '../../src/core/inference/npyFile.ts';
import { readWav } from '../../src/core/inference/wavFile.ts';
import { parseJsonlLines } from '../../src/core/metrics/jsonlReader.ts';
import { parseTfeventsRecords } from '../../src/core/metrics/tfeventsReader.ts';
import { parseTrainLogLines } from '../../src/core/metrics/trainLogReader.ts';
import { unpickle } from '../../src/core/models/pickle.ts';
import { openRvcModel } from '../../src/core/models/rvcCheckpoint.ts';
import { isUserError } from '../../src/core/util/errors.ts';
import { parseInferenceFromWebview } from '../../src/protocol/inferencePanel.ts';
import { parseFromWebview } from '../../src/protocol/metricsPanel.ts';
import { makeTempDir, sharedFixtures } from '../support/tempDir.ts';

const RUNS = Number(process.env.RVC_STUDIO_FUZZ_RUNS) || 150;
/** Per reader: stop generating after this long (the count is then what ran). */
const TIME_MS = Number(process.env.RVC_STUDIO_FUZZ_MS) || 2500;
const SEED = process.env.RVC_STUDIO_FUZZ_SEED ? Number(process.env.RVC_STUDIO_FUZZ_SEED) : undefined;
/** One input taking longer than this is a hang. */
const SLOW_MS = 1500;
/** Heap growth over a whole reader's run that counts as unbounded. */
const HEAP_GROWTH = 256 << 20;

const real = path.join(sharedFixtures, 'rvc-real-a');
const fixture = (rel: string): Buffer | undefined =>
  fs.existsSync(path.join(real, rel)) ? fs.readFileSync(path.join(real, rel)) : undefined;

/** Valid bytes with flipped, dropped, duplicated and inserted bytes, and truncations. */
function mutated(valid: Buffer): fc.Arbitrary<Buffer> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), value: fc.constant(0) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('max' as const), at: fc.nat(), value: fc.constant(0xff) }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 8 }).map((edits) => {
    let bytes = Buffer.from(valid);
    for (const e of edits) {
      const at = bytes.length ? e.at % bytes.length : 0;
      if (e.kind === 'flip') bytes[at] = e.value;
      else if (e.kind === 'max') bytes.fill(0xff, at, Math.min(bytes.length, at + 8));
      else if (e.kind === 'truncate') bytes = bytes.subarray(0, at);
      else bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([e.value]), bytes.subarray(at)]);
    }
    return bytes;
  });
}

const randomBytes = fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a));

interface Tally {
  runs: number;
  handled: number;
  slowestMs: number;
}
export const tallies = new Map<string, Tally>();

/**
 * Runs `read` on each input: it may return or throw a UserError (when `mayThrow`), never anything
 * else, never longer than SLOW_MS, and the heap must not grow without bound.
 */
async function fuzz(
  name: string,
  inputs: fc.Arbitrary<unknown>,
  read: (input: never) => unknown,
  { mayThrow = true } = {},
): Promise<Tally> {
  const tally: Tally = { runs: 0, handled: 0, slowestMs: 0 };
  const heapBefore = process.memoryUsage().heapUsed;
  await fc.assert(
    fc.asyncProperty(inputs, async (input) => {
      tally.runs++;
      const started = performance.now();
      try {
        await read(input as never);
        tally.handled++;
      } catch (error) {
        if (!mayThrow || !isUserError(error)) throw error;
        assert.ok(error.message.length > 0 && !error.message.includes('\n'.repeat(3)));
        tally.handled++;
      }
      const ms = performance.now() - started;
      tally.slowestMs = Math.max(tally.slowestMs, ms);
      assert.ok(ms < SLOW_MS, `one input took ${ms.toFixed(0)} ms`);
    }),
    {
      numRuns: RUNS,
      interruptAfterTimeLimit: TIME_MS,
      markInterruptAsFailure: false,
      ...(SEED !== undefined ? { seed: SEED } : {}),
      endOnFailure: true,
    },
  );
  const growth = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(growth < HEAP_GROWTH, `${name}: heap grew by ${growth >> 20} MiB`);
  tallies.set(name, tally);
  return tally;
}

describe('fuzz: readers of untrusted bytes', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = makeTempDir('rvc-studio-fuzz-')));
  after(() => {
    cleanup();
    const rows = [...tallies].map(([name, t]) => `${name}: ${t.handled}/${t.runs} handled, slowest ${t.slowestMs.toFixed(1)} ms`);
    console.log(`      ${rows.join('\n      ')}`);
  });

  it('tfevents records: never throws, reports bad records', async () => {
    const valid = fs.readdirSync(path.join(real, 'logs', 'alto-demo')).find((n) => n.startsWith('events.out.tfevents.'));
    const bytes = valid ? fs.readFileSync(path.join(real, 'logs', 'alto-demo', valid)).subarray(0, 8192) : Buffer.alloc(0);
    await fuzz('tfevents', fc.oneof(randomBytes, mutated(bytes)), (b: Buffer) => parseTfeventsRecords(b, 0, {}), { mayThrow: false });
  });

  it('train.log and stdout lines: never throws', async () => {
    const line = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        'Train Epoch: 3 [40%]',
        '[12, 9.99750015625e-05]',
        'loss_disc=9.197, loss_gen=9.149, loss_fm=1.741,loss_mel=75.000, loss_kl=9.000',
        '====> Epoch: 3 [2026-11-23 05:53:35] | (0:00:02.410700)',
        'INFO:alto:[99999999999999999999, nan]',
      ),
      fc.tuple(fc.constantFrom('INFO:x:', '2026-01-01 00:00:00,000\tx\tINFO\t'), fc.string({ maxLength: 120 })).map(([a, b]) => a + b),
    );
    await fuzz('train.log lines', fc.array(line, { maxLength: 50 }), (lines: string[]) => parseTrainLogLines(lines, {}), {
      mayThrow: false,
    });
  });

  it('train_events.jsonl lines: never throws', async () => {
    const line = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 4 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ step: 1, tag: 'loss/g/total', value: v })),
    );
    await fuzz('train_events.jsonl', fc.array(line, { maxLength: 30 }), (lines: string[]) => parseJsonlLines(lines), { mayThrow: false });
  });

  it('.npy: a result or a clear error', async () => {
    const valid = fixture('logs/alto-demo/2a_f0/1_1.wav.npy') ?? Buffer.alloc(0);
    await fuzz('.npy', fc.oneof(randomBytes, mutated(valid)), (b: Buffer) => parseNpy(b, 'fuzz.npy'));
  });

  it('WAV: a result or a clear error', async () => {
    const valid = fixture('logs/alto-demo/1_16k_wavs/10_1.wav')?.subarray(0, 16_384) ?? Buffer.alloc(0);
    const file = path.join(dir, 'fuzz.wav');
    await fuzz('WAV', fc.oneof(randomBytes, mutated(valid)), (b: Buffer) => {
      fs.writeFileSync(file, b);
      return readWav(file);
    });
  });

  it('faiss index: a result or a clear error', async () => {
    const valid = fixture('logs/alto-demo/added_IVF37_Flat_nprobe_1_alto-demo_v2.index') ?? Buffer.alloc(0);
    await fuzz('faiss index', fc.oneof(randomBytes, mutated(valid.subarray(0, 65_536)), mutated(valid)), (b: Buffer) =>
      parseIvfFlatIndex(b, 'fuzz.index'),
    );
  });

  it('pickle: a result or a clear error', async () => {
    await fuzz(
      'pickle',
      fc.oneof(
        randomBytes,
        fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.concat([Buffer.from([0x80, 0x02]), a, Buffer.from([0x2e])])),
      ),
      (b: Buffer) => unpickle(b, { label: 'fuzz.pth' }),
    );
  });

  it('.pth (zip + pickle) and its config.json: a result or a clear error', async () => {
    const valid = fixture('assets/weights/alto-demo.pth') ?? Buffer.alloc(0);
    const config = fixture('logs/alto-demo/config.json')?.toString('utf8') ?? '{}';
    const file = path.join(dir, 'G_1.pth');
    const configFile = path.join(dir, 'config.json');
    const configs = fc.oneof(
      fc.constant(config),
      fc.string({ maxLength: 300 }),
      fc.json({ maxDepth: 4 }),
      mutated(Buffer.from(config)).map((b) => b.toString('utf8')),
    );
    await fuzz('.pth + config.json', fc.tuple(fc.oneof(randomBytes, mutated(valid)), configs), async ([b, c]: [Buffer, string]) => {
      fs.writeFileSync(file, b);
      fs.writeFileSync(configFile, c);
      return openRvcModel(file, { configJson: configFile });
    });
  });

  it('webview → host messages (metrics and inference panels): a parse result, never a throw', async () => {
    const valid = fc.oneof(
      fc.record({
        type: fc.constantFrom('ready', 'requestSeries', 'settings', 'convert', 'cancel', 'pickFile', 'savePresets'),
        messageId: fc.oneof(fc.nat(), fc.string()),
      }),
      fc.record({ type: fc.constant('settings'), settings: fc.object() }),
      fc.record({ type: fc.constant('convert'), messageId: fc.nat(), params: fc.object() }),
    );
    const messages = fc.oneof(
      fc.anything(),
      fc.object({ maxDepth: 4 }),
      valid,
      fc.json().map((j) => JSON.parse(j) as unknown),
    );
    await fuzz('webview messages', messages, (m: unknown) => [parseFromWebview(m), parseInferenceFromWebview(m)], { mayThrow: false });
  });
});
