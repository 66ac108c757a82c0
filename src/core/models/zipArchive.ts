import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as yauzl from 'yauzl';
import { errorMessage, msg, UserError } from '../util/errors.ts';

/**
 * Random access to the entries of a zip file (PyTorch checkpoints, model archives), over yauzl.
 * The central directory is read once at open; entries are then read whole (bounded) or, when
 * stored uncompressed, by byte range straight from the file. Everything a hostile or damaged
 * archive can do wrong becomes a UserError naming the file: not a zip, cut short, sizes that do
 * not fit in the file, and zip bombs (absurd or hugely compressed sizes) before a byte is inflated.
 */

export interface ZipEntryInfo {
  name: string;
  compressedSize: number;
  uncompressedSize: number;
  /** 0 stored, 8 deflated; others are listed but cannot be read. */
  compressionMethod: number;
  isDirectory: boolean;
  isSymlink: boolean;
  isEncrypted: boolean;
  /** The Unix mode from the external attributes, when a Unix zipper wrote them. */
  unixMode: number | null;
}

export interface ZipLimits {
  maxEntries: number;
  /** Larger uncompressed sizes are refused as absurd. */
  maxEntryBytes: number;
  /** An entry above ratioFloorBytes that inflates more than maxRatio times is refused as a zip bomb. */
  maxRatio: number;
  ratioFloorBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 200_000,
  maxEntryBytes: 16 * 1024 ** 3,
  maxRatio: 100,
  ratioFloorBytes: 64 * 1024 ** 2,
};

export interface ZipArchive {
  readonly file: string;
  readonly size: number;
  entries(): readonly ZipEntryInfo[];
  find(name: string): ZipEntryInfo | undefined;
  /** The whole entry, inflated; refused when it is larger than maxBytes. */
  read(name: string, options: { maxBytes: number }): Promise<Buffer>;
  /** The entry inflated as a stream, for entries too large to hold in memory; refused above maxBytes. */
  openStream(name: string, options: { maxBytes: number }): Promise<NodeJS.ReadableStream & AsyncIterable<Buffer>>;
  /** `length` bytes from `start` of a stored (uncompressed) entry, read directly from the file. */
  readRange(name: string, start: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

interface Slot {
  info: ZipEntryInfo;
  entry: yauzl.Entry;
  dataStart?: number;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const MSDOS_DIRECTORY = 0x10;
const UNIX_HOST = 3;

const openFd = promisify(fs.open);
const fstat = promisify(fs.fstat);
const readFd = promisify(fs.read);
const closeFd = promisify(fs.close);

export async function openZipArchive(file: string, limits: Partial<ZipLimits> = {}): Promise<ZipArchive> {
  const { fd, size } = await openFile(file);
  let zip: yauzl.ZipFile;
  try {
    if (size === 0) throw new UserError(msg`${label(file)} is empty (0 bytes), not a zip archive.`, 'zip-empty');
    zip = await yauzl.fromFdPromise(fd, { lazyEntries: true, autoClose: false }).catch(async (error: unknown) => {
      throw await zipError(file, fd, error);
    });
  } catch (error) {
    await closeFd(fd);
    throw error;
  }
  // From here on the fd belongs to yauzl: zip.close() closes it once its own reads are done.
  try {
    const slots = await readDirectory(file, zip, size, { ...DEFAULT_ZIP_LIMITS, ...limits });
    return new ZipArchiveReader(file, size, fd, zip, slots);
  } catch (error) {
    zip.close();
    throw error;
  }
}

function label(file: string): string {
  return path.basename(file);
}

/** The open file and its size (one fstat for both). */
async function openFile(file: string): Promise<{ fd: number; size: number }> {
  try {
    const fd = await openFd(file, 'r');
    const stat = await fstat(fd);
    if (stat.isDirectory()) {
      await closeFd(fd);
      throw new UserError(msg`${file} is a folder, not a file.`, 'zip-not-file');
    }
    return { fd, size: stat.size };
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(msg`${file} does not exist.`, 'zip-missing', { cause: error });
    if (code === 'EACCES' || code === 'EPERM')
      throw new UserError(msg`${file} cannot be read (permission denied).`, 'zip-unreadable', { cause: error });
    if (code === 'EISDIR') throw new UserError(msg`${file} is a folder, not a file.`, 'zip-not-file', { cause: error });
    throw error;
  }
}

/** yauzl's message for a structural fault, as one sentence naming the file. */
async function zipError(file: string, fd: number, error: unknown): Promise<UserError> {
  const message = errorMessage(error);
  if (/End of central directory record signature not found/i.test(message)) {
    const head = Buffer.alloc(4);
    await readFd(fd, head, 0, 4, 0);
    return head.readUInt32LE(0) === 0x04034b50
      ? new UserError(
          msg`${label(file)} is cut short: it starts like a zip archive but its end (the central directory) is missing; copy it again.`,
          'zip-truncated',
        )
      : new UserError(msg`${label(file)} is not a zip archive.`, 'zip-not-zip');
  }
  return damaged(file, message, error);
}

function damaged(file: string, message: string, cause?: unknown): UserError {
  // yauzl's own name checks (zip-slip): refused with the entry named, not reported as damage.
  const unsafe = /^(absolute path|invalid relative path|invalid characters in fileName): (.*)$/s.exec(message);
  if (unsafe) {
    return new UserError(
      unsafe[1] === 'absolute path'
        ? msg`${label(file)}'s entry "${unsafe[2]}" is an absolute path; refused (zip-slip).`
        : msg`${label(file)}'s entry "${unsafe[2]}" points outside the archive's folder; refused (zip-slip).`,
      'zip-unsafe-path',
      { cause },
    );
  }
  if (/Invalid comment length/i.test(message)) {
    return new UserError(msg`${label(file)} is damaged: there are stray bytes after the end of its zip archive.`, 'zip-damaged', { cause });
  }
  if (/overflows file bounds|unexpected EOF/i.test(message)) {
    return new UserError(msg`${label(file)} is cut short: an entry runs past the end of the file; copy it again.`, 'zip-truncated', {
      cause,
    });
  }
  return new UserError(msg`${label(file)} is a damaged zip archive (${message.replace(/\.$/, '')}).`, 'zip-damaged', { cause });
}

async function readDirectory(file: string, zip: yauzl.ZipFile, size: number, limits: ZipLimits): Promise<Map<string, Slot>> {
  if (zip.entryCount > limits.maxEntries) {
    throw new UserError(
      msg`${label(file)} lists ${zip.entryCount} entries, more than the ${limits.maxEntries} RVC Studio reads.`,
      'zip-too-many',
    );
  }
  const slots = new Map<string, Slot>();
  try {
    for await (const entry of zip.eachEntry()) {
      const info = describeEntry(entry);
      checkSizes(file, info, size, limits);
      if (slots.has(info.name))
        throw new UserError(msg`${label(file)} holds two entries named "${info.name}"; refused as ambiguous.`, 'zip-duplicate');
      slots.set(info.name, { info, entry });
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw damaged(file, errorMessage(error), error);
  }
  return slots;
}

function describeEntry(entry: yauzl.Entry): ZipEntryInfo {
  const unixMode = entry.versionMadeBy >> 8 === UNIX_HOST ? entry.externalFileAttributes >>> 16 : null;
  const type = unixMode !== null ? unixMode & S_IFMT : 0;
  return {
    name: entry.fileName,
    compressedSize: entry.compressedSize,
    uncompressedSize: entry.uncompressedSize,
    compressionMethod: entry.compressionMethod,
    isDirectory: entry.fileName.endsWith('/') || type === S_IFDIR || (entry.externalFileAttributes & MSDOS_DIRECTORY) !== 0,
    isSymlink: type === S_IFLNK,
    isEncrypted: entry.isEncrypted(),
    unixMode,
  };
}

/** Refuses sizes no honest archive has, before anything is read or inflated. */
function checkSizes(file: string, info: ZipEntryInfo, fileSize: number, limits: ZipLimits): void {
  const name = `${label(file)}'s entry "${info.name}"`;
  if (info.uncompressedSize > limits.maxEntryBytes) {
    throw new UserError(
      msg`${name} claims ${info.uncompressedSize} bytes uncompressed, an absurd size; refused as a possible zip bomb.`,
      'zip-bomb',
    );
  }
  if (info.uncompressedSize > limits.ratioFloorBytes && info.uncompressedSize > limits.maxRatio * Math.max(1, info.compressedSize)) {
    throw new UserError(
      msg`${name} would inflate ${info.compressedSize} bytes into ${info.uncompressedSize} (over ${limits.maxRatio}×); refused as a possible zip bomb.`,
      'zip-bomb',
    );
  }
  if (info.compressedSize > fileSize) {
    throw new UserError(
      msg`${name} claims ${info.compressedSize} bytes but the whole file is ${fileSize}; the file is cut short or forged.`,
      'zip-truncated',
    );
  }
}

class ZipArchiveReader implements ZipArchive {
  readonly file: string;
  readonly size: number;
  readonly #fd: number;
  readonly #zip: yauzl.ZipFile;
  readonly #slots: Map<string, Slot>;
  /** Direct reads in flight: close() waits for them, since closing the zip closes the fd. */
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;

  constructor(file: string, size: number, fd: number, zip: yauzl.ZipFile, slots: Map<string, Slot>) {
    this.file = file;
    this.size = size;
    this.#fd = fd;
    this.#zip = zip;
    this.#slots = slots;
  }

  entries(): readonly ZipEntryInfo[] {
    return [...this.#slots.values()].map((slot) => slot.info);
  }

  find(name: string): ZipEntryInfo | undefined {
    return this.#slots.get(name)?.info;
  }

  async read(name: string, { maxBytes }: { maxBytes: number }): Promise<Buffer> {
    const slot = this.#readable(name, maxBytes);
    try {
      const stream = await this.#zip.openReadStreamPromise(slot.entry);
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of stream) {
        total += (chunk as Buffer).length;
        // yauzl enforces uncompressedSize too; this guards the caller's bound on its own.
        if (total > maxBytes) {
          stream.destroy();
          throw new UserError(msg`${label(this.file)}'s entry "${name}" inflates past ${maxBytes} bytes; refused.`, 'zip-bomb');
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks, total);
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw this.#entryDamaged(name, error);
    }
  }

  async openStream(name: string, { maxBytes }: { maxBytes: number }): Promise<NodeJS.ReadableStream & AsyncIterable<Buffer>> {
    const slot = this.#readable(name, maxBytes);
    try {
      // yauzl checks the inflated size against the entry's declared one, so maxBytes bounds the stream.
      return (await this.#zip.openReadStreamPromise(slot.entry)) as NodeJS.ReadableStream & AsyncIterable<Buffer>;
    } catch (error) {
      throw this.#entryDamaged(name, error);
    }
  }

  async readRange(name: string, start: number, length: number): Promise<Uint8Array> {
    const slot = this.#readable(name);
    if (slot.info.compressionMethod !== 0)
      throw new Error(`readRange needs a stored entry; "${name}" is compressed (method ${slot.info.compressionMethod})`);
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(length) ||
      start < 0 ||
      length < 0 ||
      start + length > slot.info.uncompressedSize
    ) {
      throw new Error(`readRange ${start}+${length} is outside "${name}" (${slot.info.uncompressedSize} bytes)`);
    }
    const read = this.#dataStart(slot).then((dataStart) => this.#readAt(dataStart, start, length, name));
    this.#pending.add(read);
    try {
      return await read;
    } finally {
      this.#pending.delete(read);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#pending);
    this.#zip.close();
  }

  async #readAt(dataStart: number, start: number, length: number, name: string): Promise<Uint8Array> {
    const bytes = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await readFd(this.#fd, bytes, done, length - done, dataStart + start + done);
      if (bytesRead === 0)
        throw new UserError(msg`${label(this.file)} is cut short: entry "${name}" ends early; copy it again.`, 'zip-truncated');
      done += bytesRead;
    }
    return bytes;
  }

  /** The entry, if it can be read at all; refused when it is larger than `maxBytes`. */
  #readable(name: string, maxBytes = Infinity): Slot {
    if (this.#closed) throw new Error(`${this.file} was already closed`);
    const slot = this.#slots.get(name);
    if (!slot) throw new UserError(msg`${label(this.file)} has no entry "${name}".`, 'zip-no-entry');
    if (slot.info.isEncrypted)
      throw new UserError(msg`${label(this.file)}'s entry "${name}" is encrypted; RVC Studio cannot read it.`, 'zip-encrypted');
    if (slot.info.compressionMethod !== 0 && slot.info.compressionMethod !== 8) {
      throw new UserError(
        msg`${label(this.file)}'s entry "${name}" uses compression method ${slot.info.compressionMethod}; only stored and deflated entries can be read.`,
        'zip-method',
      );
    }
    if (slot.info.uncompressedSize > maxBytes) {
      throw new UserError(
        msg`${label(this.file)}'s entry "${name}" is ${slot.info.uncompressedSize} bytes, more than the ${maxBytes} expected.`,
        'zip-entry-too-large',
      );
    }
    return slot;
  }

  #entryDamaged(name: string, error: unknown): UserError {
    return damaged(this.file, `entry "${name}": ${errorMessage(error)}`, error);
  }

  /** Where the entry's bytes begin (after its local header), checked to lie within the file. */
  async #dataStart(slot: Slot): Promise<number> {
    if (slot.dataStart === undefined) {
      let header: { fileDataStart: number };
      try {
        header = await this.#zip.readLocalFileHeaderPromise(slot.entry, { minimal: true });
      } catch (error) {
        throw this.#entryDamaged(slot.info.name, error);
      }
      if (header.fileDataStart + slot.info.compressedSize > this.size) {
        throw new UserError(
          msg`${label(this.file)} is cut short: entry "${slot.info.name}" runs past the end of the file; copy it again.`,
          'zip-truncated',
        );
      }
      slot.dataStart = header.fileDataStart;
    }
    return slot.dataStart;
  }
}
