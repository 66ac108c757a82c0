import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PickleDict, PickleValue, TorchTensor } from '../../../src/core/models/pickle.ts';
import { foldWeightNorm, openRvcModel, type RvcModel, type RvcSynthConfig } from '../../../src/core/models/rvcCheckpoint.ts';
import { openTorchCheckpoint } from '../../../src/core/models/torchCheckpoint.ts';
import { isUserError } from '../../../src/core/util/errors.ts';
import { makeTempDir, sharedFixtures } from '../../support/tempDir.ts';
import { editWeights, pickleTree, resave, torchZip } from '../../support/torchWriter.ts';

const exportRefs = path.join(sharedFixtures, 'rvc-export-refs');
const runA = path.join(sharedFixtures, 'rvc-real-a');
const altoSmall = path.join(runA, 'assets/weights/alto-demo.pth');
const altoG = path.join(runA, 'logs/alto-demo/G_20.pth');
/** README: "each `*.weight_g` … (104 tensors in each model)": the folded names are the stored ones less one per pair. */
const WEIGHT_NORM_PAIRS = 104;

interface Manifest {
  sampling_rate: number;
  version: 'v1' | 'v2';
  f0: 0 | 1;
  speakers: number;
  pth: { file: string; sha256: string; bytes: number; config: unknown[]; info: string; weight_tensors: number; weight_params: number };
}

function requireFixtures(context: Mocha.Context, folder: string): void {
  if (!fs.existsSync(folder)) {
    console.warn(`SKIP: ${folder} not found — RVC-written .pth fixtures are needed`);
    context.skip();
  }
}

function configList(c: RvcSynthConfig): unknown[] {
  return [
    c.spec_channels,
    c.segment_size,
    c.inter_channels,
    c.hidden_channels,
    c.filter_channels,
    c.n_heads,
    c.n_layers,
    c.kernel_size,
    c.p_dropout,
    c.resblock,
    c.resblock_kernel_sizes,
    c.resblock_dilation_sizes,
    c.upsample_rates,
    c.upsample_initial_channel,
    c.upsample_kernel_sizes,
    c.spk_embed_dim,
    c.gin_channels,
    c.sr,
  ];
}

async function withModel<T>(file: string, use: (model: RvcModel) => Promise<T>, options: { configJson?: string } = {}): Promise<T> {
  const model = await openRvcModel(file, options);
  try {
    return await use(model);
  } finally {
    await model.close();
  }
}

/** Every folded tensor of a model, by name. */
async function allTensors(model: RvcModel): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const name of model.tensorNames()) out.set(name, await model.tensor(name));
  return out;
}

describe('models: RVC models read from RVC-written .pth files', () => {
  it('every rvc-export-refs model matches its manifest: version, pitch, rate, speakers, config, tensors, parameters, sha256', async function () {
    requireFixtures(this, exportRefs);
    for (const variant of fs.readdirSync(exportRefs).filter((d) => fs.existsSync(path.join(exportRefs, d, 'manifest.json')))) {
      const manifest = JSON.parse(fs.readFileSync(path.join(exportRefs, variant, 'manifest.json'), 'utf8')) as Manifest;
      await withModel(path.join(exportRefs, variant, manifest.pth.file), async (model) => {
        assert.deepEqual(
          [model.kind, model.version, model.f0, model.sampleRate, model.speakers, model.featureSize, model.info, model.epoch],
          [
            'small',
            manifest.version,
            manifest.f0 === 1,
            manifest.sampling_rate,
            manifest.speakers,
            manifest.version === 'v1' ? 256 : 768,
            manifest.pth.info,
            0,
          ],
          variant,
        );
        assert.deepEqual(configList(model.config), manifest.pth.config, variant);
        assert.equal(model.tensorNames().length, manifest.pth.weight_tensors - WEIGHT_NORM_PAIRS, variant);
        assert.equal(model.parameterCount, manifest.pth.weight_params, variant);
        assert.deepEqual([model.sha256, model.bytes], [manifest.pth.sha256, manifest.pth.bytes], variant);
        assert.ok(!model.tensorNames().some((n) => /weight_[gv]$|parametrizations|enc_q/.test(n)), variant);
        assert.equal(model.tensorNames().includes('enc_p.emb_pitch.weight'), model.f0, variant);
      });
    }
  });

  it('folds weight norm as torch does: weight = g · v / ‖v‖ per output row, from the stored g and v', async function () {
    requireFixtures(this, exportRefs);
    const file = path.join(exportRefs, 'v2-40k-f0/v2-40k-f0.pth');
    const raw = await openTorchCheckpoint(file);
    try {
      const weights = (raw.root as Map<string, PickleValue>).get('weight') as Map<string, TorchTensor>;
      await withModel(file, async (model) => {
        for (const name of ['dec.ups.0.weight', 'flow.flows.0.enc.in_layers.1.weight', 'dec.resblocks.4.convs2.1.weight']) {
          const base = name.slice(0, -'.weight'.length);
          const g = await raw.tensorData(weights.get(`${base}.weight_g`)!);
          const v = await raw.tensorData(weights.get(`${base}.weight_v`)!);
          const folded = await model.tensor(name);
          assert.deepEqual(folded.shape, [...weights.get(`${base}.weight_v`)!.shape], name);
          const rowLength = v.length / g.length;
          for (let o = 0; o < g.length; o++) {
            let vNorm = 0;
            let wNorm = 0;
            for (let i = 0; i < rowLength; i++) {
              vNorm += v[o * rowLength + i]! ** 2;
              wNorm += folded.data[o * rowLength + i]! ** 2;
            }
            assert.ok(Math.abs(Math.sqrt(wNorm) - Math.abs(g[o]!)) <= 1e-5 * Math.abs(g[o]!) + 1e-7, `${name} row ${o}: ‖w‖ = |g|`);
            for (let i = 0; i < rowLength; i++) {
              const want = (g[o]! * v[o * rowLength + i]!) / Math.sqrt(vNorm);
              assert.ok(Math.abs(folded.data[o * rowLength + i]! - want) <= 1e-6 * Math.abs(want) + 1e-9, `${name}[${o}, ${i}]`);
            }
          }
        }
        const plain = await model.tensor('enc_p.emb_phone.weight');
        assert.deepEqual(plain.data, await raw.tensorData(weights.get('enc_p.emb_phone.weight')!), 'plain tensors pass through unchanged');
        assert.deepEqual(plain.shape, [8, 768]);
      });
    } finally {
      await raw.close();
    }
  });

  it("run A's small models: epoch and step from the file, info as RVC wrote it", async function () {
    requireFixtures(this, runA);
    const seen = [];
    for (const name of ['alto-demo.pth', 'alto-demo_e2_s10.pth', 'alto-demo_e4_s20.pth']) {
      seen.push(
        await withModel(path.join(runA, 'assets/weights', name), async (m) => [
          m.kind,
          m.version,
          m.f0,
          m.sampleRate,
          m.epoch,
          m.step,
          m.info,
          m.extra,
        ]),
      );
    }
    assert.deepEqual(seen, [
      ['small', 'v2', true, 40000, 4, null, '4epoch', {}],
      ['small', 'v2', true, 40000, 2, 10, '2epoch', {}],
      ['small', 'v2', true, 40000, 4, 20, '4epoch', {}],
    ]);
  });

  it('G_20.pth, with its training config.json, is the same synthesizer as the small model alto-demo.pth, to float16 precision', async function () {
    requireFixtures(this, runA);
    const small = await withModel(altoSmall, async (m) => ({
      m: { ...m, config: m.config, names: m.tensorNames() },
      tensors: await allTensors(m),
    }));
    await withModel(altoG, async (g) => {
      assert.deepEqual(
        [g.kind, g.version, g.f0, g.sampleRate, g.speakers, g.epoch, g.step, g.info],
        ['g-checkpoint', 'v2', true, 40000, 109, 4, 20, null],
      );
      assert.deepEqual(g.config, small.m.config, 'config.json gives the config savee wrote into the small model');
      assert.deepEqual(g.tensorNames(), small.m.names, 'same names, enc_q left out');
      assert.equal(g.parameterCount, small.m.parameterCount);
      for (const [name, s] of small.tensors) {
        const t = await g.tensor(name);
        assert.deepEqual(t.shape, s.shape, name);
        const scale = s.data.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        // float16 keeps 11 significant bits, and steps of 2^-24 among its subnormals.
        for (let i = 0; i < t.data.length; i++) {
          assert.ok(
            Math.abs(t.data[i]! - s.data[i]!) <= 2e-3 * Math.abs(s.data[i]!) + 1e-6 * scale + 2 ** -24,
            `${name}[${i}]: ${t.data[i]} vs ${s.data[i]}`,
          );
        }
      }
    });
  });

  it('refuses D checkpoints, and a G checkpoint without a readable config.json, saying where it looked', async function () {
    requireFixtures(this, runA);
    for (const d of ['D_10.pth', 'D_20.pth']) {
      await assert.rejects(openRvcModel(path.join(runA, 'logs/alto-demo', d)), {
        message: `${d} is a discriminator checkpoint (D_*.pth); convert with the matching G_*.pth or the small model in assets/weights.`,
      });
    }
    const { dir, cleanup } = makeTempDir();
    try {
      const lonely = path.join(dir, 'G_20.pth');
      fs.copyFileSync(altoG, lonely);
      await assert.rejects(
        openRvcModel(lonely),
        (e: unknown) => isUserError(e) && e.message.includes(`none could be read at ${path.join(dir, 'config.json')} (there is none)`),
      );
      fs.writeFileSync(path.join(dir, 'other.json'), '{ not json');
      await assert.rejects(
        openRvcModel(lonely, { configJson: path.join(dir, 'other.json') }),
        (e: unknown) => isUserError(e) && e.message.includes(path.join(dir, 'other.json')),
      );
      fs.copyFileSync(path.join(runA, 'logs/alto-demo/config.json'), path.join(dir, 'other.json'));
      assert.equal(
        await withModel(lonely, async (m) => m.epoch, { configJson: path.join(dir, 'other.json') }),
        4,
        'options.configJson is where the config is',
      );
    } finally {
      cleanup();
    }
  });
});

describe('models: RVC model files changed by the test (re-saved real models)', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(function () {
    requireFixtures(this, runA);
    ({ dir, cleanup } = makeTempDir());
  });
  afterEach(() => cleanup?.());

  /** alto-demo.pth re-saved as `name` with its top-level dict edited. */
  async function variant(name: string, edit: (root: PickleDict) => void, source = altoSmall): Promise<string> {
    const file = path.join(dir, name);
    await resave(source, file, edit);
    return file;
  }

  async function refusedWith(file: string, message: RegExp | string, options: { configJson?: string } = {}): Promise<void> {
    await assert.rejects(openRvcModel(file, options), (e: unknown) => {
      assert.ok(isUserError(e), String(e));
      assert.ok(e.message.startsWith(path.basename(file)), `names the file first: ${e.message}`);
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    });
  }

  it("reads Applio's keys, with HiFi-GAN and ContentVec, and refuses its other vocoders and embedders by name", async () => {
    const applio = (extra: Record<string, PickleValue>) => (root: PickleDict) => {
      root.delete('info');
      root.set('sr', 40000);
      root.set('f0', true);
      for (const [k, v] of Object.entries({
        epoch: 300,
        step: 12000,
        speakers_id: 0,
        embedder_model: 'contentvec',
        vocoder: 'HiFi-GAN',
        author: 'me',
        ...extra,
      }))
        root.set(k, v);
    };
    const ok = await variant('applio.pth', applio({}));
    assert.deepEqual(await withModel(ok, async (m) => [m.epoch, m.step, m.info, m.f0, m.extra]), [
      300,
      12000,
      null,
      true,
      { speakersId: 0, embedderModel: 'contentvec', vocoder: 'HiFi-GAN', author: 'me' },
    ]);
    await refusedWith(
      await variant('refine.pth', applio({ vocoder: 'RefineGAN' })),
      "refine.pth uses Applio's RefineGAN vocoder, which RVC Studio cannot convert yet.",
    );
    await refusedWith(
      await variant('mrf.pth', applio({ vocoder: 'MRF HiFi-GAN' })),
      "mrf.pth uses Applio's MRF HiFi-GAN vocoder, which RVC Studio cannot convert yet.",
    );
    await refusedWith(
      await variant('spin.pth', applio({ embedder_model: 'spin' })),
      /spin\.pth was trained on features of the "spin" embedder; RVC Studio converts only models trained on ContentVec or HuBERT-base features\./,
    );
    await withModel(await variant('jp.pth', applio({ embedder_model: 'japanese-hubert-base' })), async (m) =>
      assert.equal(m.extra.embedderModel, 'japanese-hubert-base'),
    );
  });

  it('refuses a config list of the wrong length, a sample rate RVC does not train, and a config the weights do not fit', async () => {
    const setConfig = (edit: (config: PickleValue[]) => PickleValue[]) => (root: PickleDict) =>
      root.set('config', edit([...(root.get('config') as PickleValue[])]));
    await refusedWith(
      await variant(
        'short.pth',
        setConfig((c) => c.slice(0, 17)),
      ),
      /short\.pth has a config list of 17 items where RVC writes 18/,
    );
    await refusedWith(
      await variant(
        '22k.pth',
        setConfig((c) => [...c.slice(0, 17), 22050]),
      ),
      /22k\.pth is a 22050 Hz model; RVC Studio converts 32000, 40000 and 48000 Hz models\./,
    );
    // extract_small_model's hard-coded 40k config (hidden 192) on these shrunk weights:
    await refusedWith(
      await variant(
        'wide.pth',
        setConfig((c) => [...c.slice(0, 3), 192, ...c.slice(4)]),
      ),
      /wide\.pth has enc_p\.emb_phone\.weight of shape \[8, 768\] where its config implies \[192, 768\]/,
    );
    await refusedWith(
      await variant(
        'heads.pth',
        setConfig((c) => [...c.slice(0, 5), 3, ...c.slice(6)]),
      ),
      /heads\.pth cannot be read: its config has hidden_channels = 8, not divisible by n_heads = 3/,
    );
    await refusedWith(
      await variant(
        'resblock.pth',
        setConfig((c) => [...c.slice(0, 9), '3', ...c.slice(10)]),
      ),
      /resblock = "3", not "1" or "2"/,
    );
  });

  it('refuses a model missing a weight its config implies, or whose version disagrees with its weights', async () => {
    const drop =
      (...names: string[]) =>
      (root: PickleDict) =>
        editWeights(root, (w) => void names.forEach((n) => w.delete(n)));
    await refusedWith(
      await variant('noups.pth', drop('dec.ups.3.weight_g', 'dec.ups.3.weight_v')),
      /noups\.pth lacks the weight dec\.ups\.3\.weight, which its config implies/,
    );
    await refusedWith(
      await variant('half.pth', drop('dec.ups.3.weight_g')),
      /half\.pth has only half of the weight norm of dec\.ups\.3\.weight \(no magnitude g\)/,
    );
    await refusedWith(
      await variant('nopitch.pth', drop('enc_p.emb_pitch.weight')),
      /nopitch\.pth lacks the weight enc_p\.emb_pitch\.weight/,
    );
    await refusedWith(
      await variant('v1.pth', (root) => root.set('version', 'v1')),
      'v1.pth says it is version v1, but its weights take 768-wide features (v2).',
    );
    // A file without a version is v1, as RVC reads it; these weights are v2.
    await refusedWith(await variant('old.pth', (root) => root.delete('version')), /old\.pth says it is version v1/);
    await refusedWith(
      await variant('notrvc.pth', (root) => [...root.keys()].forEach((k) => k !== 'info' && root.delete(k))),
      'notrvc.pth is a PyTorch file but not an RVC model (its top-level keys are info).',
    );
  });

  it('reads the parametrizations spelling of weight norm and module.-prefixed G checkpoints the same way', async () => {
    const renamed = await variant('param.pth', (root) =>
      editWeights(
        root,
        (w) =>
          new Map(
            [...w].map(([k, v]) => [
              String(k)
                .replace(/\.weight_g$/, '.parametrizations.weight.original0')
                .replace(/\.weight_v$/, '.parametrizations.weight.original1'),
              v,
            ]),
          ),
      ),
    );
    const original = await withModel(altoSmall, allTensors);
    assert.deepEqual(await withModel(renamed, allTensors), original);

    const prefixed = path.join(dir, 'G_20.pth');
    await resave(altoG, prefixed, (root) => editWeights(root, (w) => new Map([...w].map(([k, v]) => [`module.${String(k)}`, v]))));
    const names = await withModel(prefixed, async (m) => m.tensorNames(), { configJson: path.join(runA, 'logs/alto-demo/config.json') });
    assert.deepEqual(names, [...original.keys()]);
  });

  it('a v1 model without a version key (files from before v2) opens as v1', async function () {
    requireFixtures(this, exportRefs);
    const file = await variant('oldv1.pth', (root) => root.delete('version'), path.join(exportRefs, 'v1-40k-f0/v1-40k-f0.pth'));
    assert.deepEqual(await withModel(file, async (m) => [m.version, m.featureSize]), ['v1', 256]);
  });

  it('refuses a PyTorch file that holds no dict', async () => {
    const file = path.join(dir, 'list.pth');
    fs.writeFileSync(file, torchZip(pickleTree([1, 2, 3])));
    await refusedWith(file, 'list.pth is a PyTorch file but not an RVC model (it holds no dict of named parts).');
  });

  it('foldWeightNorm: rows scaled to length |g|, a zero direction gives NaN as in torch', () => {
    const w = foldWeightNorm(new Float32Array([2, -1]), new Float32Array([3, 4, 0, 0]));
    assert.deepEqual([...w.slice(0, 2)], [1.2000000476837158, 1.600000023841858]);
    assert.ok(Number.isNaN(w[2]!));
  });
});
