import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir, repoRoot } from '../../support/tempDir.ts';

/** A Node older than 22.14 on this machine (Debian's is 20), to prove we refuse it instead of segfaulting. */
function findOldNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    if (!fs.existsSync(candidate)) continue;
    const napi = spawnSync(candidate, ['-p', 'process.versions.napi'], { encoding: 'utf8' }).stdout.trim();
    if (Number(napi) < 10) return candidate;
  }
  return undefined;
}

describe('running on a Node without Node-API 10', () => {
  it('the built CLI refuses with a clear message instead of crashing in better-sqlite3', function () {
    const oldNode = findOldNode();
    const cli = path.join(repoRoot, 'dist', 'cli.js');
    if (!oldNode || !fs.existsSync(cli)) {
      console.warn(`SKIP: needs a Node older than 22.14 (found: ${oldNode ?? 'none'}) and a built dist/cli.js (run npm run build)`);
      this.skip();
    }
    const { dir, cleanup } = makeTempDir();
    try {
      const run = spawnSync(oldNode, [cli, '--workspace', dir, 'training', 'list'], { encoding: 'utf8' });
      assert.equal(run.signal, null, 'killed by a signal: the segfault this check exists to prevent');
      assert.equal(run.status, 1);
      assert.match(run.stderr, /needs Node\.js 22\.14 or newer \(Node-API 10\)/);
    } finally {
      cleanup();
    }
  });
});
