import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TorchTensor } from '../../../src/core/models/pickle.ts';
import { orderedDicts, type PickleDict } from '../../../src/core/models/pickle.ts';
import { orderedDict, pickleForTorchSave, PyFloat, type SaveValue, TensorToSave } from '../../../src/core/models/pickleWriter.ts';
import { halfBits } from '../../../src/core/models/checkpointTools.ts';
import { decodeHalf, openTorchCheckpoint } from '../../../src/core/models/torchCheckpoint.ts';
import { archiveName, saveTorchFile, torchSaveChunks } from '../../../src/core/models/torchSave.ts';
import { openZipArchive } from '../../../src/core/models/zipArchive.ts';
import { makeTempDir } from '../../support/tempDir.ts';

const sha256 = (bytes: Uint8Array): string => crypto.createHash('sha256').update(bytes).digest('hex');
const range = (n: number): number[] => [...Array(n).keys()];

function sampleRoot(): SaveValue {
  const shared = { dtype: 'float16' as const, bytes: new Uint8Array([0, 0x3c, 0, 0x40, 0, 0x42, 0, 0x44]) }; // 1, 2, 3, 4
  const weight = new Map<string, SaveValue>([
    ['a.weight', new TensorToSave(shared, [2, 2])],
    ['a.tail', new TensorToSave(shared, [2], [1], 2)],
    ['b.bias', new TensorToSave({ dtype: 'float32', bytes: new Uint8Array(new Float32Array([0.5, -1]).buffer) }, [2])],
    ['scalar', new TensorToSave({ dtype: 'int64', bytes: new Uint8Array(8) }, [])],
  ]);
  return orderedDict([
    ['weight', weight],
    ['config', [1025, 32, 0, '1', [3, 7, 11], [[1, 3, 5]], 40000, -5, 2 ** 40, new PyFloat(0)]],
    ['info', 'ünïcode 声'],
    ['f0', 1],
    ['none', null],
    ['flag', true],
  ]);
}

describe('models: the .pth writer (torch.save of torch 1.13)', () => {
  it('writes what our reader reads back: key order, dict kinds, values, storages shared by identity', async () => {
    const { dir, cleanup } = makeTempDir();
    try {
      const file = path.join(dir, 'sample.pth');
      await saveTorchFile(file, sampleRoot());
      const checkpoint = await openTorchCheckpoint(file);
      try {
        const root = checkpoint.root as PickleDict;
        assert.deepEqual([...root.keys()], ['weight', 'config', 'info', 'f0', 'none', 'flag']);
        assert.ok(orderedDicts.has(root), 'the top level is an OrderedDict');
        const weight = root.get('weight') as PickleDict;
        assert.ok(!orderedDicts.has(weight), 'weight is a plain dict, as RVC writes it');
        assert.deepEqual(root.get('config'), [1025, 32, 0, '1', [3, 7, 11], [[1, 3, 5]], 40000, -5, 2 ** 40, 0]);
        assert.equal(root.get('info'), 'ünïcode 声');
        assert.equal(root.get('none'), null);
        assert.equal(root.get('flag'), true);
        const [w, tail, bias, scalar] = ['a.weight', 'a.tail', 'b.bias', 'scalar'].map((k) => weight.get(k) as TorchTensor);
        assert.equal(w!.storage.key, tail!.storage.key, 'one storage for both views');
        assert.deepEqual([...(await checkpoint.tensorData(w!))], [1, 2, 3, 4]);
        assert.deepEqual([...(await checkpoint.tensorData(tail!))], [3, 4]);
        assert.deepEqual([...(await checkpoint.tensorData(bias!))], [0.5, -1]);
        assert.deepEqual([scalar!.dtype, scalar!.shape, scalar!.storage.location], ['int64', [], 'cpu']);
      } finally {
        await checkpoint.close();
      }
    } finally {
      cleanup();
    }
  });

  it('lays the zip out as torch does: stored records, 64-byte aligned data, data.pkl, data/<key> in string order, version', async () => {
    const { dir, cleanup } = makeTempDir();
    try {
      const weight = new Map<string, SaveValue>(
        range(12).map((i) => [`t${i}`, new TensorToSave({ dtype: 'float16', bytes: new Uint8Array(2 * (i + 1)) }, [i + 1])]),
      );
      const file = path.join(dir, 'my.model.pth');
      await saveTorchFile(file, orderedDict([['weight', weight]]));
      const zip = await openZipArchive(file);
      try {
        const names = zip.entries().map((e) => e.name);
        const keys = range(12).map(String).sort();
        assert.deepEqual(names, ['my.model/data.pkl', ...keys.map((k) => `my.model/data/${k}`), 'my.model/version']);
        assert.ok(zip.entries().every((e) => e.compressionMethod === 0));
        assert.equal((await zip.read('my.model/version', { maxBytes: 8 })).toString(), '3\n');
      } finally {
        await zip.close();
      }
      const bytes = fs.readFileSync(file);
      let offset = bytes.indexOf('PK\x03\x04');
      while (offset !== -1 && bytes.readUInt32LE(offset) === 0x04034b50) {
        const dataStart = offset + 30 + bytes.readUInt16LE(offset + 26) + bytes.readUInt16LE(offset + 28);
        assert.equal(dataStart % 64, 0, `record at ${offset} has its data aligned`);
        offset = bytes.indexOf('PK\x07\x08', dataStart) + 16;
      }
    } finally {
      cleanup();
    }
  });

  it('gives the same bytes for the same input, whatever the time and folder; the archive is named after the file', () => {
    const first = Buffer.concat(torchSaveChunks('/a/x.pth', sampleRoot()));
    const second = Buffer.concat(torchSaveChunks('/elsewhere/x.pth', sampleRoot()));
    assert.ok(first.equals(second));
    assert.equal(archiveName('/w/alto-renamed'), 'alto-renamed');
    assert.equal(archiveName('a.b.pth'), 'a.b');
  });

  it("pickles as Python 3.11's C pickler (protocol 2): memo, int/float opcodes, batches of 1000, tuples", () => {
    // The expected hash is pickle.dumps(build(), protocol=2) of the same tree in Python 3.11.7, with
    // every str a fresh object (so, like RVC's keys, none is a memo hit):
    // d = {'k%d' % i: i * 7 - 3000 for i in range(1000)}                    (plain dict of exactly 1000)
    // o = OrderedDict(('o%d' % i, [i, -i, 2**40 + i, -2**63, 0.5 * i, None, True, False]) for i in range(1000))
    // o1 = OrderedDict(('p%d' % i, i) for i in range(1001)); d1 = {'q%d' % i: 'ü%d' % i for i in range(1001)}
    // OrderedDict(d=d, o=o, o1=o1, d1=d1, l=list(range(2001)), one=['x'], od1=OrderedDict(a={'b': 1.0}),
    //             t=(1, (2, 3), (4, 5, 6, 7)))
    const d = new Map(range(1000).map((i) => [`k${i}`, i * 7 - 3000] as const));
    const row = (i: number): SaveValue[] => [i, -i, 2n ** 40n + BigInt(i), -(2n ** 63n), new PyFloat(0.5 * i), null, true, false];
    const o = orderedDict(range(1000).map((i) => [`o${i}`, row(i)] as const));
    const o1 = orderedDict(range(1001).map((i) => [`p${i}`, i] as const));
    const d1 = new Map(range(1001).map((i) => [`q${i}`, `ü${i}`] as const));
    const tuple = Object.freeze([1, Object.freeze([2, 3]), Object.freeze([4, 5, 6, 7])]) as SaveValue;
    const root = orderedDict([
      ['d', d],
      ['o', o],
      ['o1', o1],
      ['d1', d1],
      ['l', range(2001)],
      ['one', ['x']],
      ['od1', orderedDict([['a', new Map([['b', new PyFloat(1)]])]])],
      ['t', tuple],
    ]);
    const { pickle } = pickleForTorchSave(root);
    assert.equal(pickle.length, 128074);
    assert.equal(sha256(pickle), '76bfb04fb6b3905ff28884fea96f79833e911457a0eca8b9d2f999f3a63fd431');
  });

  it('memoizes the tensor globals, "storage" and "cpu" once, and numbers storages in pickling order', () => {
    const s0 = { dtype: 'float16' as const, bytes: new Uint8Array(4) };
    const s1 = { dtype: 'float16' as const, bytes: new Uint8Array(2) };
    const { pickle, storages } = pickleForTorchSave(
      new Map([
        ['b', new TensorToSave(s1, [1])],
        ['a', new TensorToSave(s0, [2])],
        ['c', new TensorToSave(s1, [1])],
      ]),
    );
    assert.deepEqual(
      storages.map(([key, bytes]) => [key, bytes.length]),
      [
        ['0', 2],
        ['1', 4],
      ],
    );
    const text = Buffer.from(pickle).toString('latin1');
    assert.equal(text.split('torch._utils\n_rebuild_tensor_v2').length, 2);
    assert.equal(text.split('X\x07\x00\x00\x00storage').length, 2);
    assert.equal(text.split('X\x03\x00\x00\x00cpu').length, 2);
  });
});

describe("models: fp16 as torch's .half() rounds", () => {
  it('keeps every float16 value, rounds halfway cases to even, overflows to inf, flushes below half the smallest subnormal', () => {
    for (let h = 0; h < 0x10000; h++) {
      const value = decodeHalf(h);
      if (Number.isNaN(value)) assert.equal(halfBits(value) & 0x7fff, 0x7e00);
      else assert.equal(halfBits(value), h, `0x${h.toString(16)}`);
    }
    assert.equal(halfBits(1 + 2 ** -11), 0x3c00, 'halfway between 1 and its successor: to even (1)');
    assert.equal(halfBits(1 + 3 * 2 ** -11), 0x3c02, 'halfway between odd and even: to even');
    assert.equal(halfBits(1 + 2 ** -11 + 2 ** -20), 0x3c01, 'just above halfway: up');
    assert.equal(halfBits(65520), 0x7c00, 'halfway above the largest finite: inf');
    assert.equal(halfBits(65519), 0x7bff);
    assert.equal(halfBits(2 ** -25), 0, 'half the smallest subnormal: to even (0)');
    assert.equal(halfBits(2 ** -25 + 2 ** -40), 1);
    assert.equal(halfBits(-(2 ** -26)), 0x8000, 'a negative underflow keeps its sign');
    assert.equal(halfBits(3 * 2 ** -25), 2, 'subnormal halfway 1.5 → 2');
    assert.equal(halfBits(-Infinity), 0xfc00);
  });
});
