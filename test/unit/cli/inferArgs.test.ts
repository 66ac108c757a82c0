import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { requestFromArgs } from '../../../src/cli/commands/infer.ts';
import { cliEntry, makeTempDir } from '../../support/tempDir.ts';

function cli(workspace: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cliEntry, '--workspace', workspace, ...args], {
    encoding: 'utf8',
    // An empty per-user cache, so nothing on this machine fills in what a case leaves out.
    env: { ...process.env, XDG_CACHE_HOME: `${workspace}/xdg` },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const files = ['--model', 'alto.pth', '--input', 'in.wav', '--output', 'out.wav'];

describe('rvc-studio infer: arguments', () => {
  it("maps every flag onto the conversion request, leaving out what the user did not give (RVC's defaults come later)", () => {
    const request = requestFromArgs({
      positionals: [],
      values: {
        model: 'alto.pth',
        input: 'in.wav',
        output: 'out.wav',
        contentvec: 'vec.onnx',
        'f0-method': 'harvest',
        'f0-file': 'curve.txt',
        'f0-raw': 'harvest.npy',
        'no-noise': true,
        'dump-stages': 'stages',
        transpose: '-3',
        'filter-radius': '3',
        sr: '40k',
        seed: '5',
      },
    });
    assert.deepEqual(request, {
      modelPath: 'alto.pth',
      inputPath: 'in.wav',
      outputPath: 'out.wav',
      contentVecPath: 'vec.onnx',
      indexPath: null,
      f0Method: 'harvest',
      rmvpePath: null,
      f0CurvePath: 'curve.txt',
      f0RawPath: 'harvest.npy',
      noNoise: true,
      dumpStagesDir: 'stages',
      modelSampleRate: '40k',
      transpose: -3,
      indexRate: null,
      filterRadius: 3,
      rmsMixRate: null,
      protect: null,
      resampleSr: null,
      sid: null,
      seed: 5,
      threads: null,
    });
    const plain = requestFromArgs({ positionals: [], values: { model: 'm.onnx', input: 'i.wav', output: 'o.wav' } });
    assert.equal(plain.noNoise, false);
    assert.equal(plain.f0Method, null);
    assert.throws(
      () => requestFromArgs({ positionals: [], values: { model: 'm.onnx', input: 'i.wav', output: 'o.wav', protect: 'lots' } }),
      {
        message: '--protect must be a number (got "lots").',
      },
    );
  });

  it('refuses bad choices with one line before converting anything', () => {
    const { dir, cleanup } = makeTempDir();
    try {
      const cases: [string[], RegExp][] = [
        [['--f0-method', 'harvest'], /^harvest \(WORLD\) is not built in yet: .*--f0-raw F\.npy/],
        [['--f0-method', 'crepe'], /^f0 method "crepe" is not one of yin, rmvpe, harvest\.$/],
        [['--transpose', '99'], /^transpose must be a whole number between -24 and 24 \(got 99\)\.$/],
        [['--filter-radius', '8'], /^filter radius must be a whole number between 0 and 7 \(got 8\)\.$/],
        [['--no-noise=yes'], /--no-noise.*does not take an argument/],
        [['--f0-method', 'rmvpe'], /^RMVPE \(rmvpe\.onnx\) is not downloaded yet: run "rvc-studio models fetch rmvpe"/],
      ];
      for (const [args, message] of cases) {
        const run = cli(dir, 'infer', ...files, '--contentvec', 'vec.onnx', ...args);
        assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
        const lines = run.stderr.trim().split('\n');
        assert.equal(lines.length, 1, run.stderr);
        assert.match(lines[0]!, message, args.join(' '));
      }
    } finally {
      cleanup();
    }
  });

  it('--help lists the new flags and says what yin and harvest are', () => {
    const help = spawnSync(process.execPath, [cliEntry, '--help'], { encoding: 'utf8' }).stdout;
    for (const flag of ['--f0-method rmvpe|harvest|yin', '--f0-file F', '--f0-raw F.npy', '--no-noise', '--dump-stages DIR'])
      assert.ok(help.includes(flag), flag);
    assert.match(help, /yin \(built in, no model file; not an RVC method/);
    assert.match(help, /harvest \(RVC's; WORLD is not built in yet, so it needs --f0-raw\)/);
  });
});
