// What our .pth writer writes, read by the real torch.load (Debian's python3-torch, which .ci/setup
// installs), with and without weights_only=True: the files RVC and every RVC tool will be handed.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extractSmallModel, setModelInfo } from '../../../src/core/models/checkpointTools.ts';
import { mergeModels } from '../../../src/core/models/modelMerge.ts';
import type { PickleDict, TorchTensor } from '../../../src/core/models/pickle.ts';
import { openTorchCheckpoint } from '../../../src/core/models/torchCheckpoint.ts';
import { makeTempDir, sharedFixtures } from '../../support/tempDir.ts';

const runA = path.join(sharedFixtures, 'rvc-real-a');
const G20 = path.join(runA, 'logs/alto-demo/G_20.pth');
const ALTO = path.join(runA, 'assets/weights/alto-demo.pth');
const ALTO_E2 = path.join(runA, 'assets/weights/alto-demo_e2_s10.pth');

// Loads a file both ways and prints its metadata and each weight's dtype, shape and sha256 of its bytes.
const LOAD = `
import hashlib, json, sys, torch
out = {}
for weights_only in (False, True):
    ckpt = torch.load(sys.argv[1], map_location="cpu", weights_only=weights_only)
    out[str(weights_only)] = {
        "keys": list(ckpt.keys()),
        "meta": {k: ckpt[k] for k in ("info", "sr", "f0", "version") if k in ckpt},
        "config": ckpt.get("config"),
        "weight": [[name, str(t.dtype).replace("torch.", ""), list(t.shape),
                    hashlib.sha256(t.contiguous().numpy().tobytes()).hexdigest()] for name, t in ckpt["weight"].items()],
    }
print(json.dumps(out))
`;

/** A Python with torch: Debian's, where pyenv or a venv shadows it on PATH. */
function pythonWithTorch(): string | undefined {
  return ['/usr/bin/python3', 'python3'].find((python) => spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}

type Loaded = { keys: string[]; meta: Record<string, unknown>; config: unknown; weight: [string, string, number[], string][] };

function torchLoad(python: string, file: string): Record<'False' | 'True', Loaded> {
  const run = spawnSync(python, ['-c', LOAD, file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, `torch.load of ${path.basename(file)} failed:\n${run.stderr}`);
  return JSON.parse(run.stdout) as Record<'False' | 'True', Loaded>;
}

/** The same file through our own reader, in torch.load's terms. */
async function ourReading(file: string): Promise<{ keys: string[]; weight: Loaded['weight'] }> {
  const checkpoint = await openTorchCheckpoint(file);
  try {
    const weight = (checkpoint.root as PickleDict).get('weight') as PickleDict;
    const rows: Loaded['weight'] = [];
    for (const [name, value] of weight) {
      const tensor = value as TorchTensor;
      const bytes = await checkpoint.tensorBytes(tensor);
      rows.push([String(name), tensor.dtype, [...tensor.shape], crypto.createHash('sha256').update(bytes).digest('hex')]);
    }
    return { keys: [...(checkpoint.root as PickleDict).keys()].map(String), weight: rows };
  } finally {
    await checkpoint.close();
  }
}

describe('models: the files we write, read by the real torch.load', function () {
  this.timeout(120_000);
  let python: string | undefined;
  let dir: string;
  let cleanup: () => void;
  before(function () {
    python = pythonWithTorch();
    if (!python) {
      console.warn('SKIP: no Python with torch (apt-get install python3-torch, as .ci/setup does) — torch.load is not checked');
      this.skip();
    }
    if (!fs.existsSync(runA)) {
      console.warn(`SKIP: ../shared/fixtures/rvc-real-a not found at ${sharedFixtures} — no RVC model to write from`);
      this.skip();
    }
    ({ dir, cleanup } = makeTempDir());
  });
  after(() => cleanup?.());

  const cases: [string, (out: string) => Promise<unknown>][] = [
    ['extract', (out) => extractSmallModel(G20, { info: 'from G_20', out })],
    ['merge', (out) => mergeModels(ALTO, ALTO_E2, { alpha: 0.3, info: 'blend', out })],
    ['merge with a G checkpoint', (out) => mergeModels(G20, ALTO, { alpha: 0.5, out })],
    ['set-info', (out) => setModelInfo(ALTO, 'renamed by RVC Studio', out)],
  ];
  for (const [name, write] of cases) {
    it(`${name}: torch.load reads it with and without weights_only, the same tensors and metadata as our reader`, async () => {
      const out = path.join(dir, `${name.replace(/\W+/g, '-')}.pth`);
      const written = (await write(out)) as { info: string; sr: string; f0: number; version: string };
      const loaded = torchLoad(python!, out);
      assert.deepEqual(loaded.True, loaded.False, 'weights_only=True reads what the full unpickler reads');
      const ours = await ourReading(out);
      assert.deepEqual(loaded.True.keys, ours.keys, 'the same keys in the same order');
      assert.deepEqual(loaded.True.meta, { info: written.info, sr: written.sr, f0: written.f0, version: written.version });
      assert.ok(Array.isArray(loaded.True.config) && loaded.True.config.length === 18, 'RVC’s 18-entry config list');
      assert.deepEqual(loaded.True.weight, ours.weight);
      assert.ok(
        loaded.True.weight.every(([, dtype]) => dtype === 'float16'),
        'fp16 weights, as RVC saves them',
      );
    });
  }
});
