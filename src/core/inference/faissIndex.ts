import * as fs from 'node:fs';
import { msg, UserError } from '../util/errors.ts';

/**
 * RVC's retrieval index, read straight from faiss's binary IndexIVFFlat file (faiss/impl/index_read.cpp):
 *   "IwFl" · index header · nlist, nprobe (u64) · quantizer ("IxF2" IndexFlatL2: header + centroids)
 *   · direct map · inverted lists ("ilar": nlist, code_size, sizes, then per list codes + int64 ids).
 * Search reproduces faiss's, not an exact one: RVC searches with nprobe as stored (1), so a query sees
 * only the vectors of its nearest centroid's list.
 */
export interface IvfFlatIndex {
  d: number;
  ntotal: number;
  nlist: number;
  nprobe: number;
  /** nlist × d centroids. */
  centroids: Float32Array;
  /** Per list: its vectors (n × d) and their ids. */
  lists: { vectors: Float32Array; ids: BigInt64Array }[];
}

export interface SearchResult {
  /** Per query, k ids (−1 where a probed list had fewer than k vectors, as faiss returns). */
  ids: number[][];
  /** Per query, k squared L2 distances (Infinity where the id is −1). */
  distances: number[][];
}

class Reader {
  offset = 0;
  readonly buf: Buffer;
  readonly name: string;
  constructor(buf: Buffer, name: string) {
    this.buf = buf;
    this.name = name;
  }
  need(n: number): void {
    if (this.offset + n > this.buf.length)
      throw new UserError(msg`${this.name} is truncated at byte ${this.offset}; rebuild the index with RVC.`, 'bad-index');
  }
  fourcc(): string {
    this.need(4);
    const s = this.buf.toString('latin1', this.offset, this.offset + 4);
    this.offset += 4;
    return s;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.offset);
    this.offset += 4;
    return v;
  }
  u8(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }
  u64(): number {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.offset);
    this.offset += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new UserError(msg`${this.name}: a size field (${v}) is impossible; the file is damaged.`, 'bad-index');
    return Number(v);
  }
  f32s(count: number): Float32Array {
    this.need(count * 4);
    const out = new Float32Array(count);
    const bytes = new Uint8Array(out.buffer);
    bytes.set(this.buf.subarray(this.offset, this.offset + count * 4));
    this.offset += count * 4;
    return out;
  }
  i64s(count: number): BigInt64Array {
    this.need(count * 8);
    const out = new BigInt64Array(count);
    new Uint8Array(out.buffer).set(this.buf.subarray(this.offset, this.offset + count * 8));
    this.offset += count * 8;
    return out;
  }
}

interface IndexHeader {
  d: number;
  ntotal: number;
  metric: number;
}

function readHeader(r: Reader): IndexHeader {
  const d = r.i32();
  const ntotal = r.u64();
  r.u64(); // dummy
  r.u64(); // dummy
  r.u8(); // is_trained
  const metric = r.i32();
  if (metric > 1) r.f32s(1); // metric_arg
  return { d, ntotal, metric };
}

export function readIvfFlatIndex(file: string): IvfFlatIndex {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (error) {
    throw new UserError(msg`Cannot read index ${file}: ${(error as Error).message}`, 'not-found', { cause: error });
  }
  return parseIvfFlatIndex(buf, file);
}

export function parseIvfFlatIndex(buf: Buffer, name: string): IvfFlatIndex {
  const r = new Reader(buf, name);
  const kind = r.fourcc();
  if (kind !== 'IwFl') {
    throw new UserError(
      msg`${name} is not a faiss IVF-Flat index (type "${kind.replace(/[^\x20-\x7e]/g, '?')}"); use the added_IVF…_Flat index RVC writes.`,
      'bad-index',
    );
  }
  const header = readHeader(r);
  if (header.metric !== 1) throw new UserError(msg`${name} uses faiss metric ${header.metric}; RVC's indexes use L2 (1).`, 'bad-index');
  const nlist = r.u64();
  const nprobe = r.u64();
  const qkind = r.fourcc();
  if (qkind !== 'IxF2') throw new UserError(msg`${name}: quantizer "${qkind}" is not IndexFlatL2.`, 'bad-index');
  const qheader = readHeader(r);
  if (qheader.d !== header.d || qheader.ntotal !== nlist)
    throw new UserError(msg`${name}: quantizer holds ${qheader.ntotal}×${qheader.d}, expected ${nlist}×${header.d}.`, 'bad-index');
  // faiss ≥1.7.3 stores flat codes as a float count, older as bytes; accept either.
  const stored = r.u64();
  const floats = nlist * header.d;
  if (stored !== floats && stored !== floats * 4)
    throw new UserError(msg`${name}: quantizer data size ${stored} does not fit ${nlist}×${header.d}.`, 'bad-index');
  const centroids = r.f32s(floats);
  // direct map: type byte, then a vector of int64 (and for a hashtable, pairs)
  const dmType = r.u8();
  const dmCount = r.u64();
  r.i64s(dmCount);
  if (dmType === 2) {
    const pairs = r.u64();
    r.i64s(pairs * 2);
  }
  const ilKind = r.fourcc();
  if (ilKind !== 'ilar')
    throw new UserError(
      msg`${name}: inverted lists "${ilKind}" are not stored in the file (on-disk lists are not supported).`,
      'bad-index',
    );
  const ilNlist = r.u64();
  const codeSize = r.u64();
  if (ilNlist !== nlist || codeSize !== header.d * 4)
    throw new UserError(
      msg`${name}: inverted lists ${ilNlist}×${codeSize} B do not match ${nlist} lists of ${header.d} floats.`,
      'bad-index',
    );
  const sizes = new Array<number>(nlist).fill(0);
  const listType = r.fourcc();
  if (listType === 'full') {
    const n = r.u64();
    if (n !== nlist) throw new UserError(msg`${name}: ${n} list sizes for ${nlist} lists.`, 'bad-index');
    for (let i = 0; i < nlist; i++) sizes[i] = r.u64();
  } else if (listType === 'sprs') {
    const n = r.u64();
    for (let i = 0; i < n; i += 2) {
      const list = r.u64();
      const size = r.u64();
      if (list >= nlist) throw new UserError(msg`${name}: list ${list} out of range.`, 'bad-index');
      sizes[list] = size;
    }
  } else {
    throw new UserError(msg`${name}: unknown list-size encoding "${listType}".`, 'bad-index');
  }
  const lists: IvfFlatIndex['lists'] = [];
  let total = 0;
  for (let i = 0; i < nlist; i++) {
    const n = sizes[i]!;
    total += n;
    lists.push({ vectors: n > 0 ? r.f32s(n * header.d) : new Float32Array(0), ids: n > 0 ? r.i64s(n) : new BigInt64Array(0) });
  }
  if (total !== header.ntotal)
    throw new UserError(msg`${name}: lists hold ${total} vectors but the header says ${header.ntotal}.`, 'bad-index');
  return { d: header.d, ntotal: header.ntotal, nlist, nprobe: Math.max(1, nprobe), centroids, lists };
}

/**
 * Squared L2 accumulated in float32, one element after another: faiss's fvec_L2sqr as Debian's build
 * runs it, so distances come out bit-identical instead of ~1e-3 apart at magnitudes near 1000.
 */
function l2sq(a: Float32Array, aOff: number, b: Float32Array, bOff: number, d: number): number {
  const f = Math.fround;
  let sum = 0;
  for (let j = 0; j < d; j++) {
    const diff = f(a[aOff + j]! - b[bOff + j]!);
    sum = f(sum + f(diff * diff));
  }
  return sum;
}

/**
 * l2sq, stopped as soon as the partial sum reaches `bound`: the float32 terms are never negative,
 * so the sum can only grow, and a vector past the k-th best is not kept whatever its exact distance.
 */
function l2sqBelow(a: Float32Array, aOff: number, b: Float32Array, bOff: number, d: number, bound: number): number {
  const f = Math.fround;
  let sum = 0;
  for (let j = 0; j < d; j++) {
    const diff = f(a[aOff + j]! - b[bOff + j]!);
    sum = f(sum + f(diff * diff));
    if (sum >= bound) return sum;
  }
  return sum;
}

/**
 * Searches like faiss's IndexIVF::search: the nprobe nearest centroids by L2, then an exact scan of
 * those lists keeping the k smallest distances (ties keep the earlier-scanned vector).
 */
export function searchIvfFlat(index: IvfFlatIndex, queries: Float32Array, k = 8, nprobe = index.nprobe): SearchResult {
  const { d } = index;
  if (queries.length % d !== 0)
    throw new UserError(msg`Queries have ${queries.length} values, not a multiple of the index width ${d}.`, 'bad-queries');
  const n = queries.length / d;
  const probes = Math.min(nprobe, index.nlist);
  const ids: number[][] = [];
  const distances: number[][] = [];
  const bestD = new Float64Array(k);
  const bestI = new Array<number>(k);
  for (let q = 0; q < n; q++) {
    const qOff = q * d;
    const centroidOrder = Array.from({ length: index.nlist }, (_, c) => ({ c, dist: l2sq(queries, qOff, index.centroids, c * d, d) }));
    centroidOrder.sort((a, b) => a.dist - b.dist || a.c - b.c);
    bestD.fill(Infinity);
    bestI.fill(-1);
    for (let p = 0; p < probes; p++) {
      const list = index.lists[centroidOrder[p]!.c]!;
      const count = list.ids.length;
      for (let v = 0; v < count; v++) {
        const dist = l2sqBelow(queries, qOff, list.vectors, v * d, d, bestD[k - 1]!);
        if (dist >= bestD[k - 1]!) continue;
        let at = k - 1;
        while (at > 0 && bestD[at - 1]! > dist) {
          bestD[at] = bestD[at - 1]!;
          bestI[at] = bestI[at - 1]!;
          at--;
        }
        bestD[at] = dist;
        bestI[at] = Number(list.ids[v]!);
      }
    }
    ids.push([...bestI]);
    distances.push(Array.from(bestD));
  }
  return { ids, distances };
}
