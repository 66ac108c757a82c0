import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseOf, Store } from '../../../src/core/store/store.ts';
import { makeTempDir } from '../../support/tempDir.ts';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'createManyTrainings.ts');

interface ChildResult {
  code: number | null;
  stderr: string;
  span: { first: number; last: number } | undefined;
}

function run(workspace: string, prefix: string, count: number, startAt: number): Promise<ChildResult> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [child, workspace, prefix, String(count), String(startAt)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.on('close', (code) => resolve({ code, stderr, span: stdout ? (JSON.parse(stdout) as ChildResult['span']) : undefined }));
  });
}

describe('two processes writing one store', () => {
  it('creating 500 trainings each at the same time ends with 1000 rows and no error', async function () {
    this.timeout(120_000);
    const { dir, cleanup } = makeTempDir();
    try {
      // Neither child migrates first: both race to create the store from nothing as well.
      const startAt = Date.now() + 1500;
      const results = await Promise.all([run(dir, 'left', 500, startAt), run(dir, 'right', 500, startAt)]);
      for (const result of results) assert.equal(result.code, 0, result.stderr);
      const [left, right] = results.map((r) => r.span!) as [{ first: number; last: number }, { first: number; last: number }];
      assert.ok(
        left.first <= right.last && right.first <= left.last,
        `the two writers did not overlap: ${JSON.stringify({ left, right })}`,
      );
      const store = Store.open(dir);
      try {
        const { n } = databaseOf(store).prepare('SELECT count(*) AS n FROM trainings').get() as { n: number };
        assert.equal(n, 1000);
        const fts = databaseOf(store).prepare('SELECT count(*) AS n FROM trainings_fts').get() as { n: number };
        assert.equal(fts.n, 1000);
      } finally {
        store.close();
      }
    } finally {
      cleanup();
    }
  });
});
