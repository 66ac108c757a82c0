import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../../../src/core/util/packageRoot.ts';

/** Every .ts file under `dir`, relative to the package root. */
function sources(dir: string): string[] {
  return fs
    .readdirSync(path.join(packageRoot(), dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.relative(packageRoot(), path.join(entry.parentPath, entry.name)));
}

describe('task writes go through the lifecycle', () => {
  it('only TaskLifecycle makes the task rows’ writer; everyone else gets the read-only repository', () => {
    const makers = sources('src').filter((file) => /\bnew TaskWriter\b/.test(fs.readFileSync(path.join(packageRoot(), file), 'utf8')));
    assert.deepEqual(makers, [path.join('src', 'core', 'runner', 'taskLifecycle.ts')]);
  });
});
