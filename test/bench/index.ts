// `npm run bench`: runs every test/bench/*.bench.ts (or those named on the command line) and prints
// each number with its same-run baseline and ratio. Speed targets live here, never in unit tests.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchResult } from './benchResult.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = fs
  .readdirSync(here)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => only.length === 0 || only.some((name) => file.startsWith(name)))
  .sort();

const format = (n: number): string => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3));

let failed = 0;
for (const file of files) {
  console.log(`\n# ${file}`);
  try {
    const bench = (await import(pathToFileURL(path.join(here, file)).href)) as { run(): Promise<BenchResult[]> };
    for (const result of await bench.run()) {
      let line = `${result.name}: ${format(result.value)} ${result.unit}`;
      if (result.baseline) line += `  | baseline "${result.baseline.name}": ${format(result.baseline.value)} ${result.unit}`;
      if (result.ratio !== undefined) line += `  | ratio ${format(result.ratio)}×`;
      console.log(line);
    }
  } catch (error) {
    failed++;
    console.log(`FAILED: ${(error as Error).stack ?? String(error)}`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
