// `npm test`: formatting (Prettier), type checks, lint, build, the unit tests (mocha), the
// fault-injection and fuzz suites (mocha) and the integration tests (a real VS Code host), in that
// order, stopping at the first failing stage. Ends with one line counting every test of the
// suites, so CI reads a single total.
import { spawn } from 'node:child_process';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const stages = [
  { name: 'format', args: ['run', 'format:check'] },
  { name: 'typecheck', args: ['run', 'typecheck'] },
  { name: 'lint', args: ['run', 'lint'] },
  { name: 'build', args: ['run', 'build'] },
  { name: 'unit', args: ['run', 'test:unit'], count: countMocha },
  { name: 'faults', args: ['run', 'test:faults'], count: countMocha },
  { name: 'integration', args: ['run', 'test:integration'], count: countPlain },
];

/**
 * mocha's spec reporter closes with "  N passing (…)", "  N failing", "  N pending" lines; only whole
 * lines count, so a test's own output ("50 pending tasks: …") is not read as a summary.
 */
function countMocha(output) {
  const number = (word) => Number([...output.matchAll(new RegExp(`^ {2}(\\d+) ${word}(?: \\(.*\\))?$`, 'gm'))].at(-1)?.[1] ?? 0);
  return { passed: number('passing'), failed: number('failing'), skipped: number('pending') };
}

/** The integration runner closes with "N passed, N failed". */
function countPlain(output) {
  const match = [...output.matchAll(/^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/gm)].at(-1);
  return { passed: Number(match?.[1] ?? 0), failed: Number(match?.[2] ?? 0), skipped: Number(match?.[3] ?? 0) };
}

function run(stage) {
  return new Promise((resolve) => {
    const child = spawn(npm, stage.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk, stream) => {
      stream.write(chunk);
      if (stage.count) output += chunk.toString().replace(/\x1b\[[0-9;]*m/g, '');
    };
    child.stdout.on('data', (chunk) => keep(chunk, process.stdout));
    child.stderr.on('data', (chunk) => keep(chunk, process.stderr));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

const total = { passed: 0, failed: 0, skipped: 0 };
let exitCode = 0;
for (const stage of stages) {
  const { code, output } = await run(stage);
  if (stage.count) {
    const counted = stage.count(output);
    for (const key of Object.keys(total)) total[key] += counted[key];
    // A runner that died before reporting still counts as a failure.
    if (code !== 0 && counted.failed === 0) total.failed += 1;
  } else if (code !== 0) {
    total.failed += 1;
  }
  if (code !== 0) {
    console.error(`npm test: the ${stage.name} stage failed (exit ${code}); later stages were not run.`);
    exitCode = code;
    break;
  }
}
console.log(`\ntotal: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exitCode = exitCode;
