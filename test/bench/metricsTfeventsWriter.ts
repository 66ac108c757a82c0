// A minimal TensorBoard event writer for benchmarks and tests (not product code): TFRecord framing
// around Event protobufs with scalar summaries, as PyTorch's add_scalar (simple_value) or TF2's
// summary.scalar (float tensor + "scalars" plugin metadata) write them. The reader's correctness is
// proven against the real RVC fixtures; this writer only makes large or unusual files.
import { maskedCrc32c } from '../../src/core/metrics/crc32c.ts';

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function key(field: number, wire: number): number[] {
  return varint(field * 8 + wire);
}

function lengthDelimited(field: number, body: Uint8Array | number[]): number[] {
  return [...key(field, 2), ...varint(body.length), ...body];
}

function f32(value: number): number[] {
  const b = Buffer.alloc(4);
  b.writeFloatLE(value);
  return [...b];
}

function f64(value: number): number[] {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return [...b];
}

export interface ScalarSpec {
  tag: string;
  value: number;
  /** 'simple' (PyTorch) or 'tensor' (TF2; `withMetadata` on the tag's first value only). */
  form?: 'simple' | 'tensor';
  withMetadata?: boolean;
}

export function encodeEvent(wallTime: number, step: number, values: ScalarSpec[] | { fileVersion: string }): Uint8Array {
  const body: number[] = [...key(1, 1), ...f64(wallTime), ...key(2, 0), ...varint(step)];
  if ('fileVersion' in values) {
    body.push(...lengthDelimited(3, Buffer.from(values.fileVersion)));
  } else {
    const summary: number[] = [];
    for (const v of values) {
      const value: number[] = lengthDelimited(1, Buffer.from(v.tag));
      if ((v.form ?? 'simple') === 'simple') value.push(...key(2, 5), ...f32(v.value));
      else {
        // TensorProto { dtype = DT_FLOAT (1); tensor_shape {} ; float_val = [value] (packed) }
        const tensor = [...key(1, 0), 1, ...lengthDelimited(2, []), ...lengthDelimited(5, f32(v.value))];
        value.push(...lengthDelimited(8, tensor));
        if (v.withMetadata) value.push(...lengthDelimited(9, lengthDelimited(1, lengthDelimited(1, Buffer.from('scalars')))));
      }
      summary.push(...lengthDelimited(1, value));
    }
    body.push(...lengthDelimited(5, summary));
  }
  return frame(Uint8Array.from(body));
}

export function frame(data: Uint8Array): Uint8Array {
  const out = Buffer.alloc(12 + data.length + 4);
  out.writeUInt32LE(data.length % 2 ** 32, 0);
  out.writeUInt32LE(Math.floor(data.length / 2 ** 32), 4);
  out.writeUInt32LE(maskedCrc32c(out, 0, 8), 8);
  Buffer.from(data.buffer, data.byteOffset, data.length).copy(out, 12);
  out.writeUInt32LE(maskedCrc32c(out, 12, 12 + data.length), 12 + data.length);
  return out;
}
