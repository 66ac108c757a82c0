import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../support/tempDir.ts';

const IMPORTS_VSCODE = /(?:from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\)|import\s+['"]vscode['"])/;

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|tsx|js|mjs|cjs)$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe('layering', () => {
  for (const layer of ['src/core', 'src/protocol', 'src/cli', 'webviews']) {
    it(`${layer} never imports vscode`, () => {
      const offenders = sourceFiles(path.join(repoRoot, layer)).filter((file) => IMPORTS_VSCODE.test(fs.readFileSync(file, 'utf8')));
      assert.deepEqual(
        offenders.map((f) => path.relative(repoRoot, f)),
        [],
      );
    });
  }

  it('the check itself catches an import of vscode', () => {
    assert.ok(IMPORTS_VSCODE.test("import * as vscode from 'vscode';"));
    assert.ok(IMPORTS_VSCODE.test('const vscode = require("vscode");'));
    assert.ok(IMPORTS_VSCODE.test("import type { Uri } from 'vscode';"));
    assert.ok(!IMPORTS_VSCODE.test("import { x } from './vscodeish.ts';"));
  });

  it('src/core has files to check', () => {
    assert.ok(sourceFiles(path.join(repoRoot, 'src/core')).length > 5);
  });
});
