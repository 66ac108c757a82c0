import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { parseIvfFlatIndex, readIvfFlatIndex, searchIvfFlat } from '../../../src/core/inference/faissIndex.ts';
import { parseNpy, readNpy } from '../../../src/core/inference/npyFile.ts';
import { UserError } from '../../../src/core/util/errors.ts';
import { cliEntry } from '../../support/tempDir.ts';
import { fx, requireFixtures } from './fixtures.ts';

interface Reference {
  ntotal: number;
  d: number;
  nlist: number;
  nprobe: number;
  faiss_search_k8: { ids: number[][]; dist: number[][] };
  bruteforce_k8_ids: number[][];
}

describe('inference: faiss IVF-Flat reader and .npy reader', function () {
  let reference: Reference;
  before(function () {
    requireFixtures(this);
    reference = JSON.parse(fs.readFileSync(fx.indexReference, 'utf8')) as Reference;
  });

  it('reads the added index RVC wrote (header, quantizer, inverted lists)', () => {
    const index = readIvfFlatIndex(fx.index);
    assert.deepEqual(
      [index.d, index.ntotal, index.nlist, index.nprobe],
      [reference.d, reference.ntotal, reference.nlist, reference.nprobe],
    );
    assert.equal(
      index.lists.reduce((n, l) => n + l.ids.length, 0),
      reference.ntotal,
    );
  });

  it("returns faiss's own answers for rows 0..19 of 0_1.npy: same ids, distances within 1e-4", () => {
    const index = readIvfFlatIndex(fx.index);
    const queries = readNpy(fx.features);
    assert.deepEqual(queries.shape, [134, 768]);
    const { ids, distances } = searchIvfFlat(index, queries.data.subarray(0, 20 * 768), 8);
    assert.deepEqual(ids, reference.faiss_search_k8.ids);
    for (let q = 0; q < 20; q++) {
      for (let j = 0; j < 8; j++)
        assert.ok(Math.abs(distances[q]![j]! - reference.faiss_search_k8.dist[q]![j]!) <= 1e-4, `query ${q} rank ${j}`);
    }
    // and it is faiss's IVF answer, not an exact search
    assert.notDeepEqual(ids, reference.bruteforce_k8_ids);
  });

  it('model index-search prints the same ids with --json', () => {
    const out = JSON.parse(
      execFileSync(
        process.execPath,
        [cliEntry, 'model', 'index-search', fx.index, '--queries', fx.features, '--rows', '20', '--k', '8', '--json'],
        { encoding: 'utf8' },
      ),
    );
    assert.deepEqual(out.ids, reference.faiss_search_k8.ids);
    assert.equal(out.index.nprobe, 1);
  });

  it('with nprobe = nlist the search becomes exact (brute force)', () => {
    const index = readIvfFlatIndex(fx.index);
    const { ids } = searchIvfFlat(index, readNpy(fx.features).data.subarray(0, 768), 8, index.nlist);
    assert.deepEqual(ids[0], reference.bruteforce_k8_ids[0]);
  });

  it('refuses a truncated index, a non-IVF file and an empty trained index gracefully', () => {
    const bytes = fs.readFileSync(fx.index);
    assert.throws(
      () => parseIvfFlatIndex(bytes.subarray(0, bytes.length - 100), 'cut.index'),
      (e: unknown) => e instanceof UserError && /truncated/.test(e.message),
    );
    assert.throws(
      () => parseIvfFlatIndex(Buffer.from('IxF2abcdefgh'), 'flat.index'),
      (e: unknown) => e instanceof UserError && /not a faiss IVF-Flat index/.test(e.message),
    );
    const trained = readIvfFlatIndex(fx.trainedIndex);
    assert.equal(trained.ntotal, 0);
    const empty = searchIvfFlat(trained, new Float32Array(768), 2);
    assert.deepEqual(empty.ids, [[-1, -1]]);
  });

  it('parses .npy headers (v1, float32/int64) and refuses other files', () => {
    const header = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }";
    const padded = header.padEnd(118, ' ') + '\n';
    const buf = Buffer.alloc(10 + padded.length + 24);
    buf.write('\x93NUMPY', 0, 'latin1');
    buf[6] = 1;
    buf.writeUInt16LE(padded.length, 8);
    buf.write(padded, 10, 'latin1');
    [7n, -2n, 40n].forEach((v, i) => buf.writeBigInt64LE(v, 10 + padded.length + i * 8));
    assert.deepEqual(Array.from(parseNpy(buf).data), [7, -2, 40]);
    assert.throws(() => parseNpy(Buffer.from('hello world!')), /not a \.npy file/);
  });
});
