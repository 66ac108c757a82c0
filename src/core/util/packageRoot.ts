import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding RVC Studio's package.json. Sources run from src/… under the test runner and
 * from dist/… when bundled, at different depths, so walk up instead of hard-coding "../..".
 */
let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        const name: unknown = JSON.parse(fs.readFileSync(manifest, 'utf8')).name;
        if (name === 'rvc-studio') return (cached = dir);
      } catch {
        // a package.json we cannot read is not ours; keep walking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('Cannot find the rvc-studio package folder above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}
