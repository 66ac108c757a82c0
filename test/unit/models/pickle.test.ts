import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ALLOWED_GLOBALS, type PickleDict, type PickleValue, TorchTensor, unpickle } from '../../../src/core/models/pickle.ts';
import { openTorchCheckpoint } from '../../../src/core/models/torchCheckpoint.ts';
import { openRvcModel } from '../../../src/core/models/rvcCheckpoint.ts';
import { openZipArchive } from '../../../src/core/models/zipArchive.ts';
import { isUserError } from '../../../src/core/util/errors.ts';
import { makeTempDir, sharedFixtures } from '../../support/tempDir.ts';
import { bytes, float, int, OP, str, tensorOf, torchZip, u32, u64, zip, pickleTree } from '../../support/torchWriter.ts';

const smallModel = path.join(sharedFixtures, 'rvc-real-a/assets/weights/alto-demo.pth');

function parse(pickle: Buffer): PickleValue {
  return unpickle(pickle, { label: 'test.pth' });
}

/** A pickle of protocol 2 around `body`, which leaves one value on the stack. */
function p2(...body: Parameters<typeof bytes>): Buffer {
  return bytes(OP.PROTO, 2, ...body, OP.STOP);
}

describe('models: pickle interpreter (torch.save subset)', () => {
  it('reads the values torch.save writes: dicts in order, lists, frozen tuples, ints of every width, floats, strings, bools, None', () => {
    const root = parse(
      p2(
        OP.EMPTY_DICT,
        OP.BINPUT,
        0,
        OP.MARK,
        str('b'),
        int(300),
        str('a'),
        int(-7),
        str('list'),
        OP.EMPTY_LIST,
        OP.MARK,
        int(1),
        float(0.5),
        OP.NONE,
        OP.NEWTRUE,
        OP.APPENDS,
        str('tuple'),
        int(1),
        int(2),
        OP.TUPLE2,
        str('big'),
        OP.LONG1,
        9,
        [0, 0, 0, 0, 0, 0, 0, 0, 0x01],
        str('neg'),
        OP.LONG1,
        2,
        [0x00, 0xff],
        str('i32'),
        int(100000),
        OP.SETITEMS,
      ),
    ) as PickleDict;
    assert.deepEqual([...root.keys()], ['b', 'a', 'list', 'tuple', 'big', 'neg', 'i32']);
    assert.equal(root.get('b'), 300);
    assert.equal(root.get('a'), -7);
    assert.deepEqual(root.get('list'), [1, 0.5, null, true]);
    assert.ok(Object.isFrozen(root.get('tuple')), 'tuples are frozen arrays');
    assert.equal(root.get('big'), 1n << 64n, 'ints beyond 2^53 stay exact as bigint');
    assert.equal(root.get('neg'), -256);
    assert.equal(root.get('i32'), 100000);
  });

  it('reads protocol 4 framing: FRAME, SHORT_BINUNICODE, MEMOIZE, BINUNICODE8, BINBYTES, and STACK_GLOBAL of an allowed global', () => {
    const body = bytes(
      OP.SHORT_BINUNICODE,
      11,
      'collections',
      OP.MEMOIZE,
      OP.SHORT_BINUNICODE,
      11,
      'OrderedDict',
      OP.MEMOIZE,
      OP.STACK_GLOBAL,
      OP.MEMOIZE,
      OP.EMPTY_TUPLE,
      OP.REDUCE,
      OP.MEMOIZE,
      OP.MARK,
      OP.BINUNICODE8,
      u64(2n),
      'k1',
      OP.SHORT_BINBYTES,
      3,
      [1, 2, 3],
      OP.SHORT_BINUNICODE,
      2,
      'k2',
      OP.BINBYTES,
      u32(1),
      [9],
      OP.SHORT_BINUNICODE,
      2,
      'k3',
      OP.BINGET,
      0,
      OP.SETITEMS,
    );
    const root = parse(bytes(OP.PROTO, 4, OP.FRAME, u64(BigInt(body.length + 1)), body, OP.STOP)) as PickleDict;
    assert.deepEqual([...root.keys()], ['k1', 'k2', 'k3']);
    assert.deepEqual(root.get('k1'), new Uint8Array([1, 2, 3]));
    assert.deepEqual(root.get('k2'), new Uint8Array([9]));
    assert.equal(root.get('k3'), 'collections', 'MEMOIZE numbers memo slots in order');
  });

  it('rebuilds tensors from persistent storage ids, and ignores the _metadata BUILD on a state dict', () => {
    const t = tensorOf('float16', '7', [2, 3], { offset: 4 });
    const stateDict = parse(
      bytes(
        OP.PROTO,
        2,
        pickleTree(new Map([['w', t]])).subarray(2, -1),
        OP.EMPTY_DICT,
        str('_metadata'),
        OP.EMPTY_DICT,
        OP.SETITEM,
        OP.BUILD,
        OP.STOP,
      ),
    ) as PickleDict;
    const w = stateDict.get('w');
    assert.ok(w instanceof TorchTensor);
    assert.deepEqual(
      [w.dtype, w.shape, w.stride, w.storageOffset, w.storage.key, w.storage.location, w.numel],
      ['float16', [2, 3], [3, 1], 4, '7', 'cpu', 6],
    );
    assert.deepEqual([...stateDict.keys()], ['w']);
  });

  it('allows exactly the globals torch.save writes for state dicts and optimizer states', () => {
    assert.deepEqual([...ALLOWED_GLOBALS].sort(), [
      'collections.OrderedDict',
      'torch.BFloat16Storage',
      'torch.BoolStorage',
      'torch.ByteStorage',
      'torch.CharStorage',
      'torch.DoubleStorage',
      'torch.FloatStorage',
      'torch.HalfStorage',
      'torch.IntStorage',
      'torch.LongStorage',
      'torch.ShortStorage',
      'torch._utils._rebuild_parameter',
      'torch._utils._rebuild_tensor_v2',
    ]);
  });

  it('reads every real RVC file of the fixtures (small models, G and D checkpoints with optimizer state)', async function () {
    const runA = path.join(sharedFixtures, 'rvc-real-a');
    if (!fs.existsSync(runA)) {
      console.warn(`SKIP: ../shared/fixtures not found at ${sharedFixtures} — real RVC checkpoints are needed`);
      this.skip();
    }
    for (const rel of ['assets/weights/alto-demo.pth', 'logs/alto-demo/G_20.pth', 'logs/alto-demo/D_20.pth']) {
      const checkpoint = await openTorchCheckpoint(path.join(runA, rel));
      try {
        assert.ok(checkpoint.root instanceof Map, rel);
      } finally {
        await checkpoint.close();
      }
    }
  });
});

describe('models: hostile and broken .pth files are refused, naming the file, in bounded time and memory', () => {
  let dir: string;
  let cleanup: () => void;
  const marker = (): string => path.join(dir, 'pwned');

  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
  });
  afterEach(() => cleanup());

  /** Opens `content` (written as `name`) and expects a UserError naming it and matching `pattern`. */
  async function refused(
    name: string,
    content: Buffer,
    pattern: RegExp,
    open: (file: string) => Promise<unknown> = (f) => openTorchCheckpoint(f),
  ): Promise<void> {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    const started = performance.now();
    const rssBefore = process.memoryUsage().rss;
    await assert.rejects(
      async () => {
        const opened = (await open(file)) as { close(): Promise<void> } | undefined;
        await opened?.close();
      },
      (error: unknown) => {
        assert.ok(isUserError(error), `a UserError, not ${String(error)}`);
        assert.ok(error.message.includes(name), `names the file: ${error.message}`);
        assert.match(error.message, pattern);
        return true;
      },
    );
    assert.ok(performance.now() - started < 5000, `${name} took ${performance.now() - started} ms`);
    assert.ok(
      process.memoryUsage().rss - rssBefore < 512 * 1024 * 1024,
      `${name} grew memory by ${process.memoryUsage().rss - rssBefore} bytes`,
    );
  }

  const asTorch = (pickle: Buffer): Buffer => torchZip(pickle);

  it('GLOBAL os.system + REDUCE: refused by name, and the command never runs', async () => {
    const pickle = p2(OP.GLOBAL, 'os\nsystem\n', str(`touch ${marker()}`), OP.TUPLE1, OP.REDUCE);
    await refused(
      'alto.pth',
      asTorch(pickle),
      /^alto\.pth asks to run `os\.system`; it is not an RVC model, and RVC Studio never runs code from a model file\.$/,
    );
    assert.equal(fs.existsSync(marker()), false, 'nothing ran');
    await refused('alto-model.pth', asTorch(pickle), /`os\.system`/, (f) => openRvcModel(f));
    assert.equal(fs.existsSync(marker()), false);
  });

  it('builtins.eval, __builtin__.exec, and a global hidden behind STACK_GLOBAL are refused by name', async () => {
    await refused('eval.pth', asTorch(p2(OP.GLOBAL, 'builtins\neval\n', str('1+1'), OP.TUPLE1, OP.REDUCE)), /`builtins\.eval`/);
    await refused('exec.pth', asTorch(p2(OP.GLOBAL, '__builtin__\nexec\n', str('x=1'), OP.TUPLE1, OP.REDUCE)), /`__builtin__\.exec`/);
    const smuggled = bytes(
      OP.PROTO,
      4,
      OP.SHORT_BINUNICODE,
      2,
      'os',
      OP.SHORT_BINUNICODE,
      6,
      'system',
      OP.STACK_GLOBAL,
      str('id'),
      OP.TUPLE1,
      OP.REDUCE,
      OP.STOP,
    );
    await refused('stack.pth', asTorch(smuggled), /`os\.system`/);
    const dotted = p2(OP.GLOBAL, 'torch._utils\n_rebuild_tensor_v2.__globals__\n');
    await refused('dotted.pth', asTorch(dotted), /`torch\._utils\._rebuild_tensor_v2\.__globals__`/);
    const callStorage = p2(OP.GLOBAL, 'torch\nFloatStorage\n', OP.EMPTY_TUPLE, OP.REDUCE);
    await refused('call.pth', asTorch(callStorage), /asks to call `torch\.FloatStorage`/);
  });

  it('unknown opcodes (INST, OBJ, a stray byte) are refused naming the opcode', async () => {
    await refused('inst.pth', asTorch(bytes(OP.PROTO, 2, 0x69, 'os\nsystem\n', OP.STOP)), /opcode 0x69 at byte 2/);
    await refused('obj.pth', asTorch(bytes(OP.PROTO, 2, OP.MARK, 0x6f, OP.STOP)), /opcode 0x6f/);
    await refused('ff.pth', asTorch(bytes(OP.PROTO, 2, 0xff)), /opcode 0xff/);
  });

  it('a truncated pickle, a cycle, an unbalanced stack and bad UTF-8 are refused', async () => {
    const whole = pickleTree(new Map([['info', '4epoch']]));
    await refused('cut.pth', asTorch(whole.subarray(0, whole.length - 6)), /stops in the middle/);
    await refused('nostop.pth', asTorch(bytes(OP.PROTO, 2, OP.NONE)), /stops in the middle/);
    await refused('cycle.pth', asTorch(p2(OP.EMPTY_LIST, OP.BINPUT, 0, OP.BINGET, 0, OP.APPEND)), /puts it inside itself/);
    await refused(
      'late.pth',
      asTorch(p2(OP.EMPTY_LIST, OP.BINPUT, 0, OP.EMPTY_LIST, OP.BINGET, 0, OP.APPEND, OP.BINGET, 0, int(1), OP.APPEND)),
      /after nesting/,
    );
    await refused('empty-stack.pth', asTorch(p2(OP.APPEND)), /empty stack/);
    await refused('utf8.pth', asTorch(p2(OP.BINUNICODE, u32(2), [0xc3, 0x28])), /not valid UTF-8/);
  });

  it('deep nesting (a million MARKs, nested lists, nested tuples) is refused without recursion', async () => {
    await refused('marks.pth', asTorch(bytes(OP.PROTO, 2, Buffer.alloc(1_000_000, OP.MARK), OP.STOP)), /more than 64 marks/);
    const lists = bytes(OP.PROTO, 2, Buffer.alloc(1_000_000, OP.EMPTY_LIST), Buffer.alloc(999_999, OP.APPEND), OP.STOP);
    await refused('lists.pth', asTorch(lists), /more than 64 levels deep/);
    const tuples = bytes(OP.PROTO, 2, OP.EMPTY_TUPLE, Buffer.alloc(1_000_000, OP.TUPLE1), OP.STOP);
    await refused('tuples.pth', asTorch(tuples), /more than 64 levels deep/);
  });

  it('memo abuse (a huge slot, a slot never stored) and floods of values are refused', async () => {
    await refused('memo.pth', asTorch(p2(OP.NONE, OP.LONG_BINPUT, u32(0xffffffff))), /memo slot 4294967295/);
    await refused('memo-get.pth', asTorch(p2(OP.LONG_BINGET, u32(123456))), /memo slot 123456, which it never stored/);
    await refused('flood.pth', asTorch(bytes(OP.PROTO, 2, Buffer.alloc(1_100_000, OP.NONE), OP.STOP)), /stack grows past/);
    await refused('string.pth', asTorch(p2(OP.BINUNICODE, u32(0xfffffff0))), /-byte string/);
    await refused('long.pth', asTorch(p2(OP.LONG1, 200, Buffer.alloc(200))), /200-byte integer/);
    await refused('frame.pth', asTorch(bytes(OP.PROTO, 4, OP.FRAME, u64(1n << 40n), OP.NONE, OP.STOP)), /frame runs past its end/);
  });

  it('absurd or inconsistent tensors are refused: a trillion elements, a tensor past its storage, a storage shorter than its tensor', async () => {
    const huge = tensorOf('float32', '0', [1_000_000, 1_000_000], { storageNumel: 4 });
    await refused('huge.pth', torchZip(pickleTree(new Map([['w', huge]])), new Map([['0', new Uint8Array(16)]])), /1000000000000 elements/);
    const past = tensorOf('float32', '0', [10], { storageNumel: 4 });
    await refused(
      'past.pth',
      torchZip(pickleTree(new Map([['w', past]])), new Map([['0', new Uint8Array(16)]])),
      /reaches past the 4 elements/,
    );

    const short = tensorOf('float32', '0', [100]);
    const file = path.join(dir, 'short.pth');
    fs.writeFileSync(file, torchZip(pickleTree(new Map([['w', short]])), new Map([['0', new Uint8Array(8)]])));
    const checkpoint = await openTorchCheckpoint(file);
    try {
      await assert.rejects(
        checkpoint.tensorData(short),
        (e: unknown) =>
          isUserError(e) &&
          /short\.pth is damaged or cut short: storage data\/0 holds 8 bytes, but a tensor needs bytes 0–400/.test(e.message),
      );
    } finally {
      await checkpoint.close();
    }
  });

  it('refuses what is not a readable checkpoint: empty, not a zip, legacy PyTorch, a zip without data.pkl, a zip bomb', async () => {
    await refused('empty.pth', Buffer.alloc(0), /empty \(0 bytes\)/);
    await refused('text.pth', Buffer.from('hello, I am not a model\n'), /is not a zip archive/);
    const legacy = bytes(OP.PROTO, 2, OP.LONG1, 10, [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19], OP.STOP);
    await refused('legacy.pth', legacy, /legacy PyTorch file .*torch\.save\(torch\.load\(f, weights_only=True\), f\)/);
    await refused(
      'nopickle.pth',
      zip([{ name: 'a/readme.txt', data: Buffer.from('hi') }]),
      /not a PyTorch checkpoint \(it has no data\.pkl\)/,
    );
    const bomb = zip([
      { name: 'archive/data.pkl', data: pickleTree(new Map()) },
      { name: 'archive/data/0', data: Buffer.alloc(65 * 1024 * 1024), method: 8 },
    ]);
    await refused('bomb.pth', bomb, /would inflate \d+ bytes into 68157440 \(over 100×\); refused as a possible zip bomb/);
    const liar = zip([{ name: 'archive/data.pkl', data: Buffer.alloc(10), method: 8, declaredSize: 4_000_000_000 }]);
    await refused('liar.pth', liar, /zip bomb/);
  });

  it('refuses a truncated zip, whether its end is gone or an entry runs past the end of the file', async function () {
    if (!fs.existsSync(smallModel)) {
      console.warn(`SKIP: ${smallModel} not found — a real RVC small model is needed`);
      this.skip();
    }
    const real = fs.readFileSync(smallModel);
    await refused(
      'cut.pth',
      real.subarray(0, Math.floor(real.length / 2)),
      /cut short: it starts like a zip archive but its end \(the central directory\) is missing/,
    );

    // A storage entry claiming more bytes than the whole file holds, with the directory intact.
    const forged = zip([
      { name: 'archive/data.pkl', data: pickleTree(new Map([['w', tensorOf('float32', '0', [4])]])) },
      { name: 'archive/data/0', data: new Uint8Array(16), declaredSizes: 1_000_000 },
    ]);
    await refused(
      'forged.pth',
      forged,
      /forged\.pth's entry "archive\/data\/0" claims 1000000 bytes but the whole file is \d+; the file is cut short or forged/,
    );
  });

  it('keeps a zip entry general: names, sizes, directories and symlinks from the external attributes', async () => {
    const file = path.join(dir, 'plain.zip');
    const archive = zip([
      { name: 'folder/', data: new Uint8Array(0) },
      { name: 'folder/a.txt', data: Buffer.from('hello hello hello hello'), method: 8 },
      { name: 'folder/link', data: Buffer.from('a.txt'), mode: 0o120777 },
    ]);
    fs.writeFileSync(file, archive);
    const z = await openZipArchive(file);
    try {
      assert.deepEqual(
        z.entries().map((e) => [e.name, e.uncompressedSize, e.compressionMethod, e.isDirectory, e.isSymlink]),
        [
          ['folder/', 0, 0, true, false],
          ['folder/a.txt', 23, 8, false, false],
          ['folder/link', 5, 0, false, true],
        ],
      );
      assert.equal((await z.read('folder/a.txt', { maxBytes: 100 })).toString(), 'hello hello hello hello');
      await assert.rejects(z.read('folder/a.txt', { maxBytes: 10 }), /more than the 10 expected/);
      await assert.rejects(z.read('nope', { maxBytes: 10 }), /has no entry "nope"/);
    } finally {
      await z.close();
    }
    await assert.rejects(openZipArchive(path.join(dir, 'missing.zip')), /does not exist/);
  });
});
