import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { isUserError, msg, UserError } from '../util/errors.ts';
import { type PickleLimits, type PickleValue, type TorchTensor, unpickle } from './pickle.ts';
import { openZipArchive, type ZipArchive } from './zipArchive.ts';

/**
 * Reads PyTorch checkpoints (`torch.save` since 1.6: a zip holding `<archive>/data.pkl`, a pickle
 * of the saved object, plus one `<archive>/data/<key>` entry per storage) without Python and
 * without running anything: the pickle goes through the allowlisting interpreter in pickle.ts, and
 * tensor bytes are read lazily, one storage range at a time, only when asked for.
 */

export interface TorchCheckpoint {
  readonly file: string;
  /** The unpickled object: for RVC files a Map of the top-level keys. */
  readonly root: PickleValue;
  /** The tensor's elements as float32 (float16 and bfloat16 widened exactly), in C order. */
  tensorData(tensor: TorchTensor): Promise<Float32Array>;
  /** The tensor's elements as stored (little-endian, its own dtype), in C order. */
  tensorBytes(tensor: TorchTensor): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface OpenCheckpointOptions {
  pickleLimits?: Partial<PickleLimits>;
}

const ITEM_BYTES = { float16: 2, bfloat16: 2, float32: 4, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1 } as const;
const MAX_PICKLE_BYTES = 32 * 1024 * 1024;

export async function openTorchCheckpoint(file: string, options: OpenCheckpointOptions = {}): Promise<TorchCheckpoint> {
  await refuseLegacyFormat(file);
  const zip = await openZipArchive(file);
  try {
    const archive = archiveFolder(zip);
    await checkByteOrder(zip, archive);
    const pickle = await zip.read(`${archive}/data.pkl`, { maxBytes: options.pickleLimits?.maxBytes ?? MAX_PICKLE_BYTES });
    const root = unpickle(pickle, { label: path.basename(file), limits: options.pickleLimits });
    return new ZipCheckpoint(zip, archive, root);
  } catch (error) {
    await zip.close();
    throw error;
  }
}

/** PyTorch before 1.6 (and `_use_new_zipfile_serialization=False`) wrote bare pickles, which need torch's own loader. */
async function refuseLegacyFormat(file: string): Promise<void> {
  const head = Buffer.alloc(2);
  try {
    const handle = await fsp.open(file, 'r');
    try {
      await handle.read(head, 0, 2, 0);
    } finally {
      await handle.close();
    }
  } catch (error) {
    // Missing, unreadable and folder paths get their sentence from openZipArchive.
    if ((error as NodeJS.ErrnoException).code !== undefined) return;
    throw error;
  }
  if (head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5) {
    throw new UserError(
      msg`${path.basename(file)} is a legacy PyTorch file (saved without the zip format of PyTorch ≥ 1.6), which RVC Studio does not read; re-save it in Python with torch.save(torch.load(f, weights_only=True), f).`,
      'torch-legacy',
    );
  }
}

/** The `<archive>` folder that holds data.pkl (torch names it after the file, or "archive"). */
function archiveFolder(zip: ZipArchive): string {
  const pickles = zip.entries().filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pickles.length !== 1) {
    throw new UserError(
      msg`${path.basename(zip.file)} is a zip archive but not a PyTorch checkpoint (${pickles.length === 0 ? 'it has no data.pkl' : 'it has several data.pkl'}).`,
      'torch-not-checkpoint',
    );
  }
  return pickles[0]!.name.slice(0, -'/data.pkl'.length);
}

async function checkByteOrder(zip: ZipArchive, archive: string): Promise<void> {
  if (!zip.find(`${archive}/byteorder`)) return; // older writers omit it: little-endian
  const order = (await zip.read(`${archive}/byteorder`, { maxBytes: 16 })).toString('latin1').trim();
  if (order !== 'little')
    throw new UserError(
      msg`${path.basename(zip.file)} stores its tensors ${order}-endian; RVC Studio reads only little-endian checkpoints.`,
      'torch-byteorder',
    );
}

class ZipCheckpoint implements TorchCheckpoint {
  readonly root: PickleValue;
  readonly #zip: ZipArchive;
  readonly #archive: string;

  constructor(zip: ZipArchive, archive: string, root: PickleValue) {
    this.#zip = zip;
    this.#archive = archive;
    this.root = root;
  }

  get file(): string {
    return this.#zip.file;
  }

  async tensorBytes(tensor: TorchTensor): Promise<Uint8Array> {
    if (!isContiguous(tensor)) {
      throw new UserError(
        msg`${path.basename(this.file)} holds a non-contiguous tensor (shape [${tensor.shape.join(', ')}], stride [${tensor.stride.join(', ')}]); RVC Studio reads only contiguous ones.`,
        'torch-strided',
      );
    }
    const item = ITEM_BYTES[tensor.dtype];
    const name = `${this.#archive}/data/${tensor.storage.key}`;
    const entry = this.#zip.find(name);
    if (!entry)
      throw new UserError(msg`${path.basename(this.file)} is damaged: storage data/${tensor.storage.key} is missing.`, 'torch-damaged');
    const start = tensor.storageOffset * item;
    const length = tensor.numel * item;
    if (start + length > entry.uncompressedSize) {
      throw new UserError(
        msg`${path.basename(this.file)} is damaged or cut short: storage data/${tensor.storage.key} holds ${entry.uncompressedSize} bytes, but a tensor needs bytes ${start}–${start + length}.`,
        'torch-damaged',
      );
    }
    if (entry.compressionMethod === 0) return this.#zip.readRange(name, start, length);
    // torch.save never compresses storages, but a re-zipped checkpoint may have; read it whole.
    const whole = await this.#zip.read(name, { maxBytes: entry.uncompressedSize });
    return new Uint8Array(whole.subarray(start, start + length));
  }

  async tensorData(tensor: TorchTensor): Promise<Float32Array> {
    if (tensor.dtype !== 'float16' && tensor.dtype !== 'bfloat16' && tensor.dtype !== 'float32') {
      throw new UserError(msg`${path.basename(this.file)} holds a ${tensor.dtype} tensor where float weights belong.`, 'torch-dtype');
    }
    return toFloat32(await this.tensorBytes(tensor), tensor.dtype);
  }

  close(): Promise<void> {
    return this.#zip.close();
  }
}

/** C order; a dimension of size 1 may carry any stride, as torch leaves them. */
function isContiguous(tensor: TorchTensor): boolean {
  let expected = 1;
  for (let i = tensor.shape.length - 1; i >= 0; i--) {
    const size = tensor.shape[i]!;
    if (size !== 1 && tensor.stride[i] !== expected) return tensor.numel === 0;
    expected *= size;
  }
  return true;
}

/** Typed-array views read the file's little-endian bytes in host order. */
function toFloat32(bytes: Uint8Array, dtype: 'float16' | 'bfloat16' | 'float32'): Float32Array {
  if (os.endianness() !== 'LE') throw new Error('reading tensors needs a little-endian host');
  if (bytes.byteOffset % 4 !== 0) bytes = bytes.slice();
  if (dtype === 'float32') return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  const out = new Float32Array(halves.length);
  if (dtype === 'bfloat16') {
    // bfloat16 is the top half of a float32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < halves.length; i++) bits[i] = halves[i]! << 16;
  } else {
    const table = halfTable();
    for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]!]!;
  }
  return out;
}

let halfToFloat: Float32Array | undefined;

/** Every float16 bit pattern's exact float32 value (256 KiB, built once). */
function halfTable(): Float32Array {
  if (!halfToFloat) {
    halfToFloat = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfToFloat[h] = decodeHalf(h);
  }
  return halfToFloat;
}

export function decodeHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

// ---- the scalar fields RVC stores at the top of its files ----

/**
 * G/D checkpoints hold `iteration` (the epoch, despite its name) and `learning_rate`; small models
 * hold `info` ("4epoch"), `sr`, `f0` and `version`; Applio's small models add `epoch` and `step`.
 */
export interface CheckpointFields {
  iteration?: number;
  learningRate?: number;
  info?: string;
  sr?: string;
  f0?: number;
  version?: string;
  epoch?: number;
  step?: number;
}

/**
 * The top-level scalar fields of an RVC `.pth`: {} for a file that is no readable checkpoint (not a
 * zip, damaged, refused), as registering model files must not fail on one odd file.
 */
export async function readCheckpointFields(file: string): Promise<CheckpointFields> {
  let checkpoint: TorchCheckpoint;
  try {
    checkpoint = await openTorchCheckpoint(file);
  } catch (error) {
    if (isUserError(error)) return {};
    throw error;
  }
  try {
    return scalarFields(checkpoint.root);
  } finally {
    await checkpoint.close();
  }
}

function scalarFields(root: PickleValue): CheckpointFields {
  if (!(root instanceof Map)) return {};
  const num = (key: string): number | undefined => {
    const v = root.get(key);
    return typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : undefined;
  };
  const str = (key: string): string | undefined => {
    const v = root.get(key);
    return typeof v === 'string' ? v : undefined;
  };
  const fields: CheckpointFields = {
    iteration: num('iteration'),
    learningRate: num('learning_rate'),
    info: str('info'),
    sr: str('sr'),
    f0: num('f0'),
    version: str('version'),
    epoch: num('epoch'),
    step: num('step'),
  };
  for (const key of Object.keys(fields) as (keyof CheckpointFields)[]) if (fields[key] === undefined) delete fields[key];
  return fields;
}

/** The epoch a G/D checkpoint or small model was saved at: `iteration`, Applio's `epoch`, or `info` = "{E}epoch"; null when none says. */
export async function checkpointEpoch(file: string): Promise<number | null> {
  const fields = await readCheckpointFields(file);
  if (fields.iteration !== undefined && fields.iteration > 0) return fields.iteration;
  if (fields.epoch !== undefined && fields.epoch > 0) return fields.epoch;
  return epochFromInfo(fields.info ?? null);
}

/** RVC's small-model `info` = "{E}epoch"; null for anything else. */
export function epochFromInfo(info: string | null): number | null {
  const m = info ? /^(\d+)epoch$/.exec(info) : null;
  return m ? Number(m[1]) : null;
}
