import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pythonScript } from '../../../src/core/runner/device.ts';
import { makeTempDir } from '../../support/tempDir.ts';

const faissDouble = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../doubles/rvcInstall/faiss');

/** A float32 .npy of rows × dim, as RVC's feature extractor writes them. */
function writeNpy(file: string, rows: number, dim: number): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head.writeUInt16LE(header.length, 8);
  const data = Buffer.alloc(rows * dim * 4);
  for (let i = 0; i < rows * dim; i++) data.writeFloatLE((i % 17) / 17, i * 4);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), data]));
}

describe("python/train_index.py (the WebUI's in-process train_index as a child)", () => {
  it('loads the features, sizes the IVF index as RVC does, writes trained_/added_ indexes and links the added one', function () {
    const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      console.warn('SKIP: python3 with numpy is not available here — train_index.py needs it');
      this.skip();
    }
    const { dir, cleanup } = makeTempDir('rvc-studio-index-');
    try {
      const exp = path.join(dir, 'logs', 'alto demo');
      fs.mkdirSync(path.join(exp, '3_feature768'), { recursive: true });
      for (let i = 0; i < 3; i++) writeNpy(path.join(exp, '3_feature768', `${i}_1.npy`), 400, 768);
      const outside = path.join(dir, 'assets', 'indices');
      const result = spawnSync('python3', [pythonScript('train_index.py'), exp, 'alto demo', 'v2', outside, '2'], {
        encoding: 'utf8',
        env: { ...process.env, PYTHONPATH: faissDouble },
      });
      assert.equal(result.status, 0, result.stderr);
      // 1200 frames: n_ivf = min(int(16 * sqrt(1200)), 1200 // 39) = min(554, 30) = 30
      const tail = 'IVF30_Flat_nprobe_1_alto demo_v2.index';
      assert.deepEqual(result.stdout.trim().split('\n'), [
        '(1200, 768),30',
        'training',
        'adding',
        `成功构建索引 added_${tail}`,
        `链接索引到外部-${outside}`,
      ]);
      const added = JSON.parse(fs.readFileSync(path.join(exp, `added_${tail}`), 'utf8'));
      assert.deepEqual(added, { double: 'faiss', d: 768, description: 'IVF30,Flat', nprobe: 1, trained_rows: 1200, ntotal: 1200 });
      assert.ok(fs.existsSync(path.join(exp, `trained_${tail}`)));
      assert.ok(fs.existsSync(path.join(exp, 'total_fea.npy')));
      assert.equal(fs.readlinkSync(path.join(outside, `alto demo_${tail}`)), path.join(exp, `added_${tail}`));

      fs.rmSync(path.join(exp, '3_feature768'), { recursive: true });
      fs.mkdirSync(path.join(exp, '3_feature768'));
      writeNpy(path.join(exp, '3_feature768', 'tiny.npy'), 20, 768);
      const tiny = spawnSync('python3', [pythonScript('train_index.py'), exp, 'alto demo', 'v2', outside, '2'], {
        encoding: 'utf8',
        env: { ...process.env, PYTHONPATH: faissDouble },
      });
      assert.equal(tiny.status, 1);
      assert.match(tiny.stderr, /only 20 feature frames; an index needs at least 39/);
    } finally {
      cleanup();
    }
  });
});
