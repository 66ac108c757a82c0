import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importRvc } from '../../../src/core/import/rvcImporter.ts';
import { querySeries } from '../../../src/core/metrics/metricsQuery.ts';
import { listArtifacts } from '../../../src/core/models/modelRegistry.ts';
import type { PickleKey, PickleValue, TorchTensor } from '../../../src/core/models/pickle.ts';
import { checkpointEpoch, decodeHalf, openTorchCheckpoint, readCheckpointFields } from '../../../src/core/models/torchCheckpoint.ts';
import { Store } from '../../../src/core/store/store.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';
import { isUserError } from '../../../src/core/util/errors.ts';
import { makeTempDir, sharedFixtures } from '../../support/tempDir.ts';
import { pickleTree, tensorOf, torchZip, zip } from '../../support/torchWriter.ts';

const runA = path.join(sharedFixtures, 'rvc-real-a');

describe('models: fields inside RVC .pth files', () => {
  beforeEach(function () {
    if (!fs.existsSync(runA)) {
      console.warn(`SKIP: ../shared/fixtures not found at ${sharedFixtures} — real RVC checkpoints are needed`);
      this.skip();
    }
  });

  it('reads iteration (the epoch) from G/D checkpoints and info/sr/f0/version from small models, as provenance/checkpoints.json lists them', async () => {
    assert.deepEqual(await readCheckpointFields(path.join(runA, 'logs/alto-demo/G_10.pth')), { iteration: 2, learningRate: 0.0001 });
    assert.deepEqual(await readCheckpointFields(path.join(runA, 'logs/alto-demo/D_20.pth')), { iteration: 4, learningRate: 0.0001 });
    assert.deepEqual(await readCheckpointFields(path.join(runA, 'assets/weights/alto-demo.pth')), {
      info: '4epoch',
      sr: '40k',
      f0: 1,
      version: 'v2',
    });
    assert.equal(await checkpointEpoch(path.join(runA, 'assets/weights/alto-demo_e2_s10.pth')), 2);
    assert.equal(await checkpointEpoch(path.join(runA, 'logs/alto-demo/config.json')), null, 'not a zip: no epoch, no error');
    assert.equal(await checkpointEpoch(path.join(runA, 'logs/alto-demo/added_IVF37_Flat_nprobe_1_alto-demo_v2.index')), null);
    assert.equal(
      await checkpointEpoch(path.join(runA, 'logs/alto-demo/no-such-file.pth')),
      null,
      'gone between scan and read: no epoch, no error',
    );
  });

  it('gives a run saved without small models (-sw 0, the WebUI default) epochs from its checkpoints', async () => {
    const { dir, cleanup } = makeTempDir();
    const store = Store.open(dir);
    try {
      const logs = path.join(dir, 'install', 'logs', 'alto-demo');
      fs.mkdirSync(logs, { recursive: true });
      for (const f of ['config.json', 'G_10.pth', 'D_10.pth', 'G_20.pth', 'D_20.pth', 'events.out.tfevents.1795413187.vm.689.0']) {
        fs.copyFileSync(path.join(runA, 'logs/alto-demo', f), path.join(logs, f));
      }
      await importRvc(store, path.dirname(logs));
      const training = new TrainingRepository(store).require('alto-demo');
      assert.deepEqual(
        listArtifacts(store, training.id).map((a) => [path.basename(a.path), a.epoch]),
        [
          ['D_10.pth', 2],
          ['D_20.pth', 4],
          ['G_10.pth', 2],
          ['G_20.pth', 4],
        ],
      );
      const [series] = querySeries(store, { trainingIds: [training.id], tag: 'loss/g/total', x: 'epoch' });
      assert.deepEqual(
        series!.points.map((p) => p.x),
        [1, 1, 1, 2, 2, 3, 3, 3, 4, 4],
      );
    } finally {
      store.close();
      cleanup();
    }
  });
});

/** float32 → float16 bits, rounding to nearest even (what torch's .half() does). */
function toHalfBits(x: number): number {
  const bits = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  const round = (value: number, shift: number, rest: number): number => {
    const halfway = 1 << (shift - 1);
    return rest > halfway || (rest === halfway && (value & 1) === 1) ? value + 1 : value;
  };
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    return sign | round(mantissa >>> shift, shift, mantissa & ((1 << shift) - 1));
  }
  return sign | round((e << 10) | (mantissa >>> 13), 13, mantissa & 0x1fff);
}

describe('models: tensors inside PyTorch checkpoints', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
  });
  afterEach(() => cleanup());

  it('widens every float16 bit pattern exactly', () => {
    assert.deepEqual([0x3c00, 0x0001, 0x0400, 0x7bff, 0xc000, 0x8000].map(decodeHalf), [1, 2 ** -24, 2 ** -14, 65504, -2, -0]);
    assert.equal(decodeHalf(0xfc00), -Infinity);
    assert.ok(Number.isNaN(decodeHalf(0x7e00)));
    for (let h = 0; h < 65536; h++) {
      if (Number.isNaN(decodeHalf(h))) continue;
      assert.equal(toHalfBits(decodeHalf(h)), h, `0x${h.toString(16)} round-trips`);
    }
  });

  it('reads float16, bfloat16 and float32 tensors exactly, honouring storage offsets and shared storages', async () => {
    const half = Buffer.alloc(8);
    [0x3c00, 0xc000, 0x3555, 0x0001].forEach((h, i) => half.writeUInt16LE(h, 2 * i));
    const bf16 = Buffer.alloc(6);
    [0x3f80, 0xc049, 0x0001].forEach((h, i) => bf16.writeUInt16LE(h, 2 * i)); // 1, -3.140625, the smallest subnormal
    const f32 = Buffer.from(new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]).buffer);
    const tensors = {
      half: tensorOf('float16', 'h', [2, 1], { offset: 2 }),
      bf16: tensorOf('bfloat16', 'b', [3]),
      tail: tensorOf('float32', 'f', [2, 2], { offset: 2 }),
      head: tensorOf('float32', 'f', [1, 2], { stride: [99, 1], storageNumel: 6 }),
      wide: tensorOf('float32', 'f', [2, 3], { stride: [1, 2] }),
      ints: tensorOf('int64', 'i', [1]),
    };
    const file = path.join(dir, 'mixed.pth');
    const storages = new Map([
      ['h', half],
      ['b', bf16],
      ['f', f32],
      ['i', Buffer.alloc(8)],
    ]);
    fs.writeFileSync(file, torchZip(pickleTree(new Map<PickleKey, PickleValue>(Object.entries(tensors))), storages));
    const checkpoint = await openTorchCheckpoint(file);
    try {
      const root = checkpoint.root as Map<string, TorchTensor>;
      const read = async (name: string): Promise<number[]> => [...(await checkpoint.tensorData(root.get(name)!))];
      assert.deepEqual(await read('half'), [0.333251953125, 2 ** -24]);
      assert.deepEqual(await read('bf16'), [1, -3.140625, new Float32Array(new Uint32Array([0x10000]).buffer)[0]]);
      assert.deepEqual(await read('tail'), [...new Float32Array([0.3, 0.4, 0.5, 0.6])]);
      assert.deepEqual(await read('head'), [...new Float32Array([0.1, 0.2])], 'a size-1 dimension may carry any stride');
      await assert.rejects(
        read('wide'),
        (e: unknown) => isUserError(e) && /mixed\.pth holds a non-contiguous tensor \(shape \[2, 3\], stride \[1, 2\]\)/.test(e.message),
      );
      await assert.rejects(read('ints'), (e: unknown) => isUserError(e) && /mixed\.pth holds a int64 tensor/.test(e.message));
    } finally {
      await checkpoint.close();
    }
  });

  it('reads a storage that a re-zipping tool deflated, and refuses big-endian checkpoints', async () => {
    const values = new Float32Array([1.5, -2.25, 3]);
    const pickle = pickleTree(new Map([['w', tensorOf('float32', '0', [3])]]));
    const deflated = path.join(dir, 'deflated.pth');
    fs.writeFileSync(
      deflated,
      zip([
        { name: 'x/data.pkl', data: pickle, method: 8 },
        { name: 'x/data/0', data: new Uint8Array(values.buffer), method: 8 },
      ]),
    );
    const checkpoint = await openTorchCheckpoint(deflated);
    try {
      assert.deepEqual(await checkpoint.tensorData((checkpoint.root as Map<string, TorchTensor>).get('w')!), values);
    } finally {
      await checkpoint.close();
    }
    const big = path.join(dir, 'big.pth');
    fs.writeFileSync(
      big,
      zip([
        { name: 'x/data.pkl', data: pickle },
        { name: 'x/byteorder', data: Buffer.from('big') },
      ]),
    );
    await assert.rejects(openTorchCheckpoint(big), /big\.pth stores its tensors big-endian/);
  });

  it("G_20.pth's float32 weights, rounded to float16, are the final small model alto-demo.pth bit for bit", async function () {
    if (!fs.existsSync(runA)) {
      console.warn(`SKIP: ../shared/fixtures not found at ${sharedFixtures} — real RVC checkpoints are needed`);
      this.skip();
    }
    const g = await openTorchCheckpoint(path.join(runA, 'logs/alto-demo/G_20.pth'));
    const small = await openTorchCheckpoint(path.join(runA, 'assets/weights/alto-demo.pth'));
    try {
      const gWeights = (g.root as Map<string, PickleValue>).get('model') as Map<string, TorchTensor>;
      const sWeights = (small.root as Map<string, PickleValue>).get('weight') as Map<string, TorchTensor>;
      assert.equal(sWeights.size, 385);
      assert.deepEqual(
        [...gWeights.keys()].filter((k) => !k.includes('enc_q')),
        [...sWeights.keys()],
      );
      for (const [name, tensor] of sWeights) {
        const fp32 = await g.tensorData(gWeights.get(name)!);
        const fp16 = new Uint16Array((await small.tensorBytes(tensor)).buffer);
        assert.deepEqual(tensor.shape, gWeights.get(name)!.shape, name);
        assert.deepEqual(Uint16Array.from(fp32, toHalfBits), fp16, name);
      }
    } finally {
      await Promise.all([g.close(), small.close()]);
    }
  });
});
