import { crc32 } from 'node:zlib';

/**
 * The zip torch.save writes (PyTorchStreamWriter over miniz, torch 1.13), byte for byte: stored
 * records with no date, flags 0x0808 (sizes in a data descriptor, UTF-8 names), every record's data
 * 64-byte aligned by an "FB" extra field of 'Z's in its local header, then the central directory, a
 * zip64 end record and locator (miniz runs with MZ_ZIP_FLAG_WRITE_ZIP64 whatever the size) and the
 * classic end record.
 *
 * Why not yazl (already a dev dependency, for the extension package): it cannot pad local headers
 * to torch's alignment, writes dates and its own version fields, so its files would be valid zips
 * but neither torch's bytes nor mmap-aligned storages. The layout is ~100 lines and tested against
 * RVC's own files, which is cheaper than a patched library.
 */

const ALIGNMENT = 64;
const UINT32_MAX = 0xffffffff;

export interface StoredRecord {
  name: string;
  data: Uint8Array;
}

export function torchZip(records: readonly StoredRecord[]): Buffer[] {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const record of records) {
    const name = Buffer.from(record.name, 'utf8');
    const size = record.data.length;
    if (size >= UINT32_MAX || offset >= UINT32_MAX) throw new RangeError('torch zip records of 4 GiB and more are not written');
    const crc = crc32(record.data);
    const local = localHeader(name, offset);
    const descriptor = Buffer.alloc(16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(crc, 4);
    descriptor.writeUInt32LE(size, 8);
    descriptor.writeUInt32LE(size, 12);
    chunks.push(local, Buffer.from(record.data.buffer, record.data.byteOffset, size), descriptor);
    central.push(centralHeader(name, crc, size, offset));
    offset += local.length + size + descriptor.length;
  }
  const directory = Buffer.concat(central);
  chunks.push(directory, endRecords(records.length, directory.length, offset));
  return chunks;
}

function localHeader(name: Buffer, offset: number): Buffer {
  const start = offset + 30 + name.length + 4;
  const padding = (ALIGNMENT - (start % ALIGNMENT)) % ALIGNMENT;
  const header = Buffer.alloc(30 + name.length + 4 + padding, 0x5a); // 'Z'
  header.fill(0, 0, 30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(0, 4); // version needed, as miniz writes it
  header.writeUInt16LE(0x0808, 6);
  // method, time, date, crc and sizes stay 0: they follow in the data descriptor
  header.writeUInt16LE(name.length, 26);
  header.writeUInt16LE(4 + padding, 28);
  name.copy(header, 30);
  header.write('FB', 30 + name.length, 'latin1');
  header.writeUInt16LE(padding, 30 + name.length + 2);
  return header;
}

function centralHeader(name: Buffer, crc: number, size: number, offset: number): Buffer {
  const header = Buffer.alloc(46 + name.length);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(0x0808, 8);
  header.writeUInt32LE(crc, 16);
  header.writeUInt32LE(size, 20);
  header.writeUInt32LE(size, 24);
  header.writeUInt16LE(name.length, 28);
  header.writeUInt32LE(offset, 42);
  name.copy(header, 46);
  return header;
}

function endRecords(count: number, directorySize: number, directoryOffset: number): Buffer {
  const zip64Offset = directoryOffset + directorySize;
  const end = Buffer.alloc(56 + 20 + 22);
  end.writeUInt32LE(0x06064b50, 0);
  end.writeBigUInt64LE(44n, 4);
  end.writeUInt16LE(0x031e, 12); // made by: Unix, 3.0
  end.writeUInt16LE(0x2d, 14); // needed: 4.5 (zip64)
  end.writeBigUInt64LE(BigInt(count), 24);
  end.writeBigUInt64LE(BigInt(count), 32);
  end.writeBigUInt64LE(BigInt(directorySize), 40);
  end.writeBigUInt64LE(BigInt(directoryOffset), 48);
  end.writeUInt32LE(0x07064b50, 56);
  end.writeBigUInt64LE(BigInt(zip64Offset), 64);
  end.writeUInt32LE(1, 72);
  end.writeUInt32LE(0x06054b50, 76);
  end.writeUInt16LE(Math.min(count, 0xffff), 84);
  end.writeUInt16LE(Math.min(count, 0xffff), 86);
  end.writeUInt32LE(Math.min(directorySize, UINT32_MAX), 88);
  end.writeUInt32LE(Math.min(directoryOffset, UINT32_MAX), 92);
  return end;
}
