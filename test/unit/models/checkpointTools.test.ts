import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extractSmallModel, loadForSave, setModelInfo } from '../../../src/core/models/checkpointTools.ts';
import { mergeModels } from '../../../src/core/models/modelMerge.ts';
import type { PickleDict, TorchTensor } from '../../../src/core/models/pickle.ts';
import { type SaveValue, TensorToSave } from '../../../src/core/models/pickleWriter.ts';
import { openTorchCheckpoint } from '../../../src/core/models/torchCheckpoint.ts';
import { saveTorchFile } from '../../../src/core/models/torchSave.ts';
import { isUserError } from '../../../src/core/util/errors.ts';
import { cliEntry, makeTempDir, sharedFixtures } from '../../support/tempDir.ts';

/**
 * RVC's own ckpt tab on real models (../shared/fixtures/rvc-ckpt-tools, see its README): every
 * tensor we write must hash as RVC's, and where our metadata is RVC's the whole file must be RVC's
 * bytes. Where we differ on purpose (config from config.json, f0 and version from the weights), the
 * file is RVC's bytes once those fields are set back to RVC's values.
 */

const tools = path.join(sharedFixtures, 'rvc-ckpt-tools');
const runA = path.join(sharedFixtures, 'rvc-real-a');
const refs = path.join(sharedFixtures, 'rvc-export-refs');
const G20 = path.join(runA, 'logs/alto-demo/G_20.pth');
const ALTO = path.join(runA, 'assets/weights/alto-demo.pth');
const ALTO_E2 = path.join(runA, 'assets/weights/alto-demo_e2_s10.pth');
const ref = (name: string): string => path.join(refs, name, `${name}.pth`);

interface ManifestTensor {
  name: string;
  dtype: string;
  shape: number[];
  sha256: string;
  stride: number[];
}
interface ManifestOutput {
  file: string;
  sha256: string;
  top_level_keys: string[];
  config: SaveValue[];
  info: string;
  sr: string;
  f0: number;
  version: string;
  weight: ManifestTensor[];
}
interface Manifest {
  returned_last_line: string;
  outputs: ManifestOutput[];
  checks?: { first_shape_mismatch?: { key: string; shape_a: number[]; shape_b: number[] } };
}

const manifest = (name: string): Manifest => JSON.parse(fs.readFileSync(path.join(tools, name, 'manifest.json'), 'utf8')) as Manifest;
const sha256 = (bytes: Uint8Array): string => crypto.createHash('sha256').update(bytes).digest('hex');

/** Every weight tensor: name, order, dtype, shape, stride and the sha256 of its bytes, against RVC's. */
async function assertTensorsAsRvc(file: string, expected: ManifestOutput): Promise<void> {
  const checkpoint = await openTorchCheckpoint(file);
  try {
    const weight = (checkpoint.root as PickleDict).get('weight') as PickleDict;
    assert.deepEqual(
      [...weight.keys()],
      expected.weight.map((t) => t.name),
    );
    for (const t of expected.weight) {
      const tensor = weight.get(t.name) as TorchTensor;
      assert.deepEqual([tensor.dtype, tensor.shape, tensor.stride], [t.dtype, t.shape, t.stride], t.name);
      assert.equal(sha256(await checkpoint.tensorBytes(tensor)), t.sha256, `${t.name} has RVC's bytes`);
    }
  } finally {
    await checkpoint.close();
  }
}

async function fields(file: string): Promise<{ keys: string[]; root: PickleDict }> {
  const checkpoint = await openTorchCheckpoint(file);
  await checkpoint.close();
  const root = checkpoint.root as PickleDict;
  return { keys: [...root.keys()] as string[], root };
}

/** Our file with the given top-level fields set to RVC's values, saved under RVC's name, is RVC's file. */
async function assertRvcBytesWith(ours: string, expected: ManifestOutput, dir: string, changes: Record<string, SaveValue>): Promise<void> {
  const root = await loadForSave(ours);
  for (const [key, value] of Object.entries(changes)) root.set(key, value);
  const again = path.join(dir, 'as-rvc', expected.file);
  fs.mkdirSync(path.dirname(again), { recursive: true });
  await saveTorchFile(again, root);
  assert.equal(
    sha256(fs.readFileSync(again)),
    expected.sha256,
    `${expected.file} is RVC's file byte for byte once ${Object.keys(changes).join(', ')} are RVC's`,
  );
}

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    if (isUserError(error)) return error.message;
    throw error;
  }
  assert.fail('expected a refusal');
}

describe("models: RVC's ckpt tab — extract, set-info, merge against RVC's own outputs", function () {
  let dir: string;
  let cleanup: () => void;
  beforeEach(function () {
    if (!fs.existsSync(tools) || !fs.existsSync(runA)) {
      console.warn(
        `SKIP: ../shared/fixtures/rvc-ckpt-tools or rvc-real-a not found at ${sharedFixtures} — RVC's own ckpt-tab outputs are needed`,
      );
      this.skip();
    }
    ({ dir, cleanup } = makeTempDir());
  });
  afterEach(() => cleanup?.());

  it('01 extract: RVC’s 385 fp16 tensors without enc_q; the config is the training’s config.json, not the full-width table', async () => {
    const expected = manifest('01-extract-G_20').outputs[0]!;
    const out = path.join(dir, 'alto-demo-G_20.pth');
    const result = await extractSmallModel(G20, { info: 'from G_20', out });
    assert.deepEqual(result, { file: out, tensors: 385, info: 'from G_20', sr: '40k', f0: 1, version: 'v2' });
    await assertTensorsAsRvc(out, expected);
    const { keys, root } = await fields(out);
    assert.deepEqual(keys, expected.top_level_keys, "RVC's key order: weight, config, info, version, sr, f0");
    // savee's config for this training (alto-demo.pth), which matches the weights: hidden 8, gin 16.
    const saveeConfig = (await fields(ALTO)).root.get('config');
    assert.deepEqual(root.get('config'), saveeConfig);
    assert.notDeepEqual(root.get('config'), expected.config, "RVC's table says hidden 192, gin 256");
    await assertRvcBytesWith(out, expected, dir, { config: expected.config });
  });

  it('02 extract without info: "Extracted model."; f0 = 1 from the weights where RVC writes its "0"', async () => {
    const expected = manifest('02-extract-G_20-noinfo-f0-0').outputs[0]!;
    const out = path.join(dir, 'alto-demo-G_20-noinfo.pth');
    const result = await extractSmallModel(G20, { out });
    assert.equal(result.info, 'Extracted model.');
    assert.equal(result.f0, 1);
    assert.equal(expected.f0, 0);
    await assertTensorsAsRvc(out, expected);
    await assertRvcBytesWith(out, expected, dir, { config: expected.config, f0: 0 });
  });

  it('03 extract from a small model: one sentence where RVC returns AttributeError', async () => {
    assert.match(manifest('03-extract-from-small-model').returned_last_line, /AttributeError/);
    const out = path.join(dir, 'x.pth');
    assert.equal(
      await refusal(() => extractSmallModel(ALTO, { out })),
      'alto-demo.pth is already a small model; extract works on a G_*.pth training checkpoint.',
    );
    assert.ok(!fs.existsSync(out));
  });

  it('04 set-info in place: RVC’s bytes, but only when asked (--in-place); otherwise the input is refused as output', async () => {
    const expected = manifest('04-change_info-inplace').outputs[0]!;
    const copy = path.join(dir, 'alto-demo.pth');
    fs.copyFileSync(ALTO, copy);
    const before = sha256(fs.readFileSync(copy));
    assert.equal(
      await refusal(() => setModelInfo(copy, 'renamed by the ckpt tab', copy)),
      'alto-demo.pth is the input file; write the result under another name.',
    );
    assert.equal(sha256(fs.readFileSync(copy)), before, 'untouched');
    await setModelInfo(copy, 'renamed by the ckpt tab', copy, { inPlace: true });
    assert.equal(sha256(fs.readFileSync(copy)), expected.sha256, "RVC's file byte for byte");
    assert.deepEqual(fs.readdirSync(dir), ['alto-demo.pth'], 'no partial file left');
  });

  it('05 set-info to another name, kept as given (no .pth added): RVC’s bytes; an existing output needs force', async () => {
    const expected = manifest('05-change_info-named-noext').outputs[0]!;
    const out = path.join(dir, 'alto-renamed');
    await setModelInfo(ALTO, 'renamed by the ckpt tab', out);
    assert.equal(sha256(fs.readFileSync(out)), expected.sha256);
    await assertTensorsAsRvc(out, expected);
    assert.equal(await refusal(() => setModelInfo(ALTO, 'again', out)), `${out} already exists; pass --force to replace it.`);
    await setModelInfo(ALTO, 'renamed by the ckpt tab', out, { force: true });
    assert.equal(sha256(fs.readFileSync(out)), expected.sha256);
  });

  it('10 merge at 0.3: RVC’s file byte for byte', async () => {
    const expected = manifest('10-merge-alto-e2-0.3').outputs[0]!;
    const out = path.join(dir, 'alto-merge-e2-0.3.pth');
    const result = await mergeModels(ALTO, ALTO_E2, { alpha: 0.3, info: 'merge test', out });
    assert.deepEqual(result, { file: out, tensors: 385, info: 'merge test', sr: '40k', f0: 1, version: 'v2' });
    assert.equal(sha256(fs.readFileSync(out)), expected.sha256);
    await assertTensorsAsRvc(out, expected);
    assert.deepEqual((await fields(out)).keys, ['weight', 'config', 'sr', 'f0', 'version', 'info']);
  });

  it('11 merge: f0 = 1 from the models where RVC writes 0 for an int 1; otherwise RVC’s bytes', async () => {
    const expected = manifest('11-merge-alto-e2-0.3-f0-int1').outputs[0]!;
    const out = path.join(dir, 'alto-merge-e2-0.3-f0int.pth');
    assert.equal((await mergeModels(ALTO, ALTO_E2, { alpha: 0.3, info: 'merge test', out })).f0, 1);
    assert.equal(expected.f0, 0);
    await assertTensorsAsRvc(out, expected);
    await assertRvcBytesWith(out, expected, dir, { f0: 0 });
  });

  it('11b merge at 0.6 with the WebUI defaults: version v2 from the weights where RVC labels it v1; tensors RVC’s', async () => {
    const expected = manifest('11b-merge-alto-e2-0.6-ui-defaults').outputs[0]!;
    const out = path.join(dir, 'alto-merge-e2-0.6.pth');
    const result = await mergeModels(ALTO, ALTO_E2, { alpha: 0.6, out });
    assert.deepEqual([result.version, result.info, expected.version], ['v2', '', 'v1']);
    await assertTensorsAsRvc(out, expected);
    await assertRvcBytesWith(out, expected, dir, { version: 'v1' });
  });

  it('12/13 a G_*.pth as B or A merges (RVC refuses or fails); alpha 0 or 1 on it gives the extract’s tensors', async () => {
    assert.equal(
      manifest('12-merge-alto-G_20-0.5').returned_last_line,
      'Fail to merge the models. The model architectures are not the same.',
    );
    assert.equal(manifest('13-merge-G_20-first').returned_last_line, "KeyError: 'config'");
    const extracted = manifest('01-extract-G_20').outputs[0]!;
    const asB = path.join(dir, 'b.pth');
    await mergeModels(ALTO, G20, { alpha: 0, out: asB });
    await assertTensorsAsRvc(asB, extracted);
    const asA = path.join(dir, 'a.pth');
    await mergeModels(G20, ALTO, { alpha: 1, out: asA });
    await assertTensorsAsRvc(asA, extracted);
    const { root } = await fields(asA);
    assert.deepEqual(
      root.get('config'),
      (await fields(ALTO)).root.get('config'),
      "A's config: its training's config.json, as savee writes it",
    );
    await mergeModels(ALTO, G20, { alpha: 0.5, out: path.join(dir, 'half.pth') });
  });

  const refusals: [string, string, string, string][] = [
    [
      '14-merge-40k-vs-48k',
      'v2-40k-f0',
      'v2-48k-f0',
      'Cannot merge v2-40k-f0.pth with v2-48k-f0.pth: v2-40k-f0.pth is a 40000 Hz model and v2-48k-f0.pth a 48000 Hz one.',
    ],
    [
      '15-merge-v2-vs-v1-40k',
      'v2-40k-f0',
      'v1-40k-f0',
      'Cannot merge v2-40k-f0.pth with v1-40k-f0.pth: v2-40k-f0.pth is an RVC v2 model and v1-40k-f0.pth an RVC v1 one.',
    ],
    [
      '16-merge-f0-vs-nof0',
      'v2-40k-f0',
      'v2-40k-nof0',
      'Cannot merge v2-40k-f0.pth with v2-40k-nof0.pth: v2-40k-f0.pth is guided by pitch (f0) and v2-40k-nof0.pth is not.',
    ],
  ];
  for (const [name, a, b, sentence] of refusals) {
    it(`${name}: refused in one sentence naming both, before anything is written (RVC: ${manifest(name).returned_last_line.slice(0, 40)}…)`, async () => {
      const out = path.join(dir, 'merged.pth');
      assert.equal(await refusal(() => mergeModels(ref(a), ref(b), { alpha: 0.5, out })), sentence);
      assert.deepEqual(fs.readdirSync(dir), []);
    });
  }

  it('shapes that differ under the same names are refused naming the weight (RVC: a broadcasting traceback); so are other names', async () => {
    // A valid model of another architecture: resblock kernels [3, 7, 7] where alto has [3, 7, 11].
    const root = await loadForSave(ALTO_E2);
    (root.get('config') as SaveValue[])[10] = [3, 7, 7];
    const weight = root.get('weight') as Map<string, SaveValue>;
    for (const [key, value] of weight) {
      const m = /^dec\.resblocks\.(\d+)\.convs[12]\.\d\.weight_v$/.exec(key);
      if (!m || Number(m[1]) % 3 !== 2) continue;
      const tensor = value as TensorToSave;
      const [rows, cols] = tensor.shape as [number, number, number];
      const halves = new Uint16Array(tensor.storage.bytes.slice().buffer);
      const cut = new Uint16Array(rows * cols * 7);
      for (let r = 0; r < rows * cols; r++) cut.set(halves.subarray(r * 11, r * 11 + 7), r * 7);
      weight.set(key, new TensorToSave({ dtype: 'float16', bytes: new Uint8Array(cut.buffer) }, [rows, cols, 7]));
    }
    const odd = path.join(dir, 'odd.pth');
    await saveTorchFile(odd, root);
    const out = path.join(dir, 'm.pth');
    assert.equal(
      await refusal(() => mergeModels(ALTO, odd, { alpha: 0.5, out })),
      'Cannot merge alto-demo.pth with odd.pth: their architectures differ (dec.resblocks.2.convs1.0.weight_v is [8, 8, 11] in alto-demo.pth and [8, 8, 7] in odd.pth).',
    );
    const extra = await loadForSave(ALTO_E2);
    (extra.get('weight') as Map<string, SaveValue>).set(
      'extra.bias',
      new TensorToSave({ dtype: 'float16', bytes: new Uint8Array(2) }, [1]),
    );
    await saveTorchFile(odd, extra);
    assert.equal(
      await refusal(() => mergeModels(ALTO, odd, { alpha: 0.5, out })),
      'Cannot merge alto-demo.pth with odd.pth: their architectures differ (odd.pth has the weight extra.bias, which alto-demo.pth lacks).',
    );
    assert.ok(!fs.existsSync(out));
  });

  it('emb_g of fewer speakers: the first min(rows) blended (RVC’s rows of case 10), spk_embed_dim says so', async () => {
    const root = await loadForSave(ALTO_E2);
    const weight = root.get('weight') as Map<string, SaveValue>;
    const checkpoint = await openTorchCheckpoint(ALTO_E2);
    const embG = ((checkpoint.root as PickleDict).get('weight') as PickleDict).get('emb_g.weight') as TorchTensor;
    const bytes = await checkpoint.tensorBytes(embG);
    await checkpoint.close();
    weight.set('emb_g.weight', new TensorToSave({ dtype: 'float16', bytes: bytes.slice(0, 50 * 16 * 2) }, [50, 16]));
    const fewer = path.join(dir, 'fewer.pth');
    await saveTorchFile(fewer, root);
    const out = path.join(dir, 'm.pth');
    await mergeModels(ALTO, fewer, { alpha: 0.3, info: 'merge test', out });
    const merged = await openTorchCheckpoint(out);
    const rvc = await openTorchCheckpoint(path.join(tools, '10-merge-alto-e2-0.3/alto-merge-e2-0.3.pth'));
    try {
      const ours = ((merged.root as PickleDict).get('weight') as PickleDict).get('emb_g.weight') as TorchTensor;
      const theirs = ((rvc.root as PickleDict).get('weight') as PickleDict).get('emb_g.weight') as TorchTensor;
      assert.deepEqual(ours.shape, [50, 16]);
      assert.deepEqual(Buffer.from(await merged.tensorBytes(ours)), Buffer.from(await rvc.tensorBytes(theirs)).subarray(0, 50 * 16 * 2));
      assert.equal(((merged.root as PickleDict).get('config') as number[])[15], 50);
    } finally {
      await merged.close();
      await rvc.close();
    }
  });

  it('refuses an alpha outside [0, 1] and an output that is an input', async () => {
    const out = path.join(dir, 'm.pth');
    assert.equal(
      await refusal(() => mergeModels(ALTO, ALTO_E2, { alpha: 1.5, out })),
      'The merge weight alpha must be between 0 and 1 (got 1.5).',
    );
    assert.equal(
      await refusal(() => mergeModels(ALTO, ALTO_E2, { alpha: 0.5, out: ALTO_E2 })),
      'alto-demo_e2_s10.pth is the input file; write the result under another name.',
    );
    assert.equal(
      await refusal(() => mergeModels(ALTO, ALTO_E2, { alpha: 0.5, out: path.join(dir, 'no/such/m.pth') })),
      `Cannot write m.pth: the folder ${path.join(dir, 'no/such')} does not exist.`,
    );
  });
});

describe('cli: model extract, set-info, merge', function () {
  const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, [cliEntry, ...args], { encoding: 'utf8' });
  let dir: string;
  let cleanup: () => void;
  beforeEach(function () {
    if (!fs.existsSync(tools) || !fs.existsSync(runA)) {
      console.warn(`SKIP: ../shared/fixtures/rvc-ckpt-tools or rvc-real-a not found at ${sharedFixtures}`);
      this.skip();
    }
    ({ dir, cleanup } = makeTempDir());
  });
  afterEach(() => cleanup?.());

  it('writes RVC’s files from the command line and refuses with one line and exit 1', () => {
    const merged = path.join(dir, 'alto-merge-e2-0.3.pth');
    const run = cli('model', 'merge', ALTO, ALTO_E2, '--alpha', '0.3', '--info', 'merge test', '--out', merged, '--json');
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      schema: 1,
      file: merged,
      tensors: 385,
      info: 'merge test',
      sr: '40k',
      f0: 1,
      version: 'v2',
      bytes: 262237,
    });
    assert.equal(sha256(fs.readFileSync(merged)), manifest('10-merge-alto-e2-0.3').outputs[0]!.sha256);

    const copy = path.join(dir, 'alto-demo.pth');
    fs.copyFileSync(ALTO, copy);
    const noTarget = cli('model', 'set-info', copy, '--info', 'renamed by the ckpt tab');
    assert.deepEqual([noTarget.status, noTarget.stderr.trim()], [1, 'model set-info needs exactly one of --out FILE.pth and --in-place.']);
    assert.equal(cli('model', 'set-info', copy, '--info', 'renamed by the ckpt tab', '--in-place').status, 0);
    assert.equal(sha256(fs.readFileSync(copy)), manifest('04-change_info-inplace').outputs[0]!.sha256);

    const extracted = path.join(dir, 'g.pth');
    const extract = cli('model', 'extract', G20, '--out', extracted);
    assert.equal(extract.status, 0, extract.stderr);
    assert.match(extract.stdout, /^wrote .*g\.pth {2}\(385 tensors; 40k v2, f0 1; info "Extracted model\."\)/);
    const badAlpha = cli('model', 'merge', ALTO, ALTO_E2, '--alpha', 'half', '--out', path.join(dir, 'm.pth'));
    assert.deepEqual([badAlpha.status, badAlpha.stderr.trim()], [1, 'model merge needs --alpha, the share of A from 0 to 1 (got "half").']);
    const refused = cli('model', 'merge', ref('v2-40k-f0'), ref('v2-40k-nof0'), '--alpha', '0.5', '--out', path.join(dir, 'm.pth'));
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^Cannot merge v2-40k-f0\.pth with v2-40k-nof0\.pth: /);
    assert.ok(!fs.existsSync(path.join(dir, 'm.pth')));
  });
});
