import * as path from 'node:path';
import type MochaType from 'mocha';

// mocha stays outside the bundle (it loads reporters dynamically); the host resolves it from the
// repository's node_modules, which is where the extension under test lives too.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Mocha = require('mocha') as typeof MochaType;

/**
 * Runs the given suites inside the extension host. The outer runner reads the `phase-result` line
 * (the host's console reaches it through the smoke-test driver) to add up the counts.
 */
export function runMocha(phase: string, register: () => void): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec', forbidOnly: true });
  mocha.suite.emit('pre-require', globalThis, path.join(__dirname, `${phase}.js`), mocha);
  register();
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const stats = runner.stats ?? { passes: 0, failures, pending: 0 };
      console.log(`phase-result ${JSON.stringify({ phase, passed: stats.passes, failed: stats.failures, skipped: stats.pending })}`);
      if (failures > 0) reject(new Error(`${failures} test(s) failed in phase ${phase}.`));
      else resolve();
    });
  });
}
