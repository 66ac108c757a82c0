// Builds the folders the integration phases open (run with Node 24 before code-server starts):
// an RVC install TEST DOUBLE, a dataset, a copy of the real-RVC fixture, and workspaces whose
// settings point at them. Writes prepared.json for runInCodeServer.mjs and the in-host suites.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeWav16 } from '../../src/core/inference/wavFile.ts';
import { makeDataset, makeRvcInstall } from '../doubles/rvcInstall/makeRvcInstall.ts';
import { zip } from '../support/torchWriter.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const root = path.resolve(process.argv[2] ?? '');
if (!process.argv[2] || !fs.existsSync(root)) throw new Error('usage: prepareWorkspaces.ts <existing temp folder>');

function cli(workspace: string, ...args: string[]): string {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/main.ts'), '--workspace', workspace, ...args], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`rvc-studio ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

function writeSettings(workspace: string, settings: Record<string, unknown>): void {
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(workspace, '.vscode/settings.json'), JSON.stringify(settings, null, 2));
}

const rvc = makeRvcInstall(path.join(root, 'rvc-double'), { epochMs: 30 });
const dataset = makeDataset(path.join(root, 'dataset-alto'), 4);
const quickRun = {
  'rvcStudio.runner.device': 'cpu',
  'rvcStudio.train.totalEpoch': 2,
  'rvcStudio.train.saveEveryEpoch': 1,
  'rvcStudio.runner.cpuProcesses': 1,
};

const fixture = path.resolve(repoRoot, '../shared/fixtures/rvc-real-a');
let fixtureCopy: string | null = null;
if (fs.existsSync(fixture)) {
  fixtureCopy = path.join(root, 'rvc-real-a');
  fs.cpSync(fixture, fixtureCopy, { recursive: true });
} else {
  console.warn(`SKIP (fixture import tests): ${fixture} not found — the import and fixture-view checks are skipped.`);
}

// Trusted: the runner's RVC double configured through the user's settings (rvc.root and pythonPath
// are machine-overridable: the Configure command writes them there too).
const trusted = path.join(root, 'ws-trusted');
fs.mkdirSync(trusted, { recursive: true });
cli(trusted, 'init');
writeSettings(trusted, quickRun);

// The inference panel check converts a file in the trusted workspace with the imported alto-demo
// ONNX model: the panel only reads ContentVec and input audio from inside the workspace, so the
// ContentVec stand-in the model was fixtured with is copied in, next to a 3 s input written here.
let inference: {
  folder: string;
  training: string;
  model: string;
  contentVec: string;
  input: string;
  inputSeconds: number;
  modelSampleRate: number;
} | null = null;
if (fixtureCopy) {
  const contentVec = path.join(trusted, 'models', 'vec-768-layer-12.standin.onnx');
  fs.mkdirSync(path.dirname(contentVec), { recursive: true });
  fs.copyFileSync(path.join(fixtureCopy, 'onnx/aux/vec-768-layer-12.standin.onnx'), contentVec);
  const input = path.join(trusted, 'audio', 'tone-3s.wav');
  fs.mkdirSync(path.dirname(input), { recursive: true });
  const rate = 44100;
  const seconds = 3;
  const samples = new Int16Array(rate * seconds);
  // A gliding, slowly pulsing tone: voiced throughout, so the pitch tracker has something to follow.
  for (let i = 0; i < samples.length; i++) {
    const t = i / rate;
    samples[i] = Math.round(9000 * Math.sin(2 * Math.PI * (196 + 40 * t) * t) * (0.8 + 0.2 * Math.sin(2 * Math.PI * 3 * t)));
  }
  writeWav16(input, samples, rate);
  inference = {
    folder: trusted,
    training: 'alto-demo',
    model: path.join(fixtureCopy, 'onnx/alto-demo.onnx'),
    contentVec,
    input,
    inputSeconds: seconds,
    modelSampleRate: 40000,
  };
}

// Shared voices (phase voiceImport): an empty store, a voice zip laid out the way AI Hub asks
// (a wrapping folder holding NAME.pth and its added_*.index) made from rvc-real-a, and an input WAV.
// ContentVec is not in it: the check serves it from a loopback server and the panel downloads it.
let voices: {
  folder: string;
  zip: string;
  voice: string;
  input: string;
  inputSeconds: number;
  modelSampleRate: number;
  contentVecStandin: string;
} | null = null;
if (fixtureCopy && inference) {
  const folder = path.join(root, 'ws-voices');
  fs.mkdirSync(folder, { recursive: true });
  cli(folder, 'init');
  const zipFile = path.join(root, 'downloads', 'Alto Demo.zip');
  fs.mkdirSync(path.dirname(zipFile), { recursive: true });
  fs.writeFileSync(
    zipFile,
    zip([
      { name: 'Alto Demo/alto-demo.pth', data: fs.readFileSync(path.join(fixtureCopy, 'assets/weights/alto-demo.pth')), method: 8 },
      {
        name: 'Alto Demo/added_IVF37_Flat_nprobe_1_alto-demo_v2.index',
        data: fs.readFileSync(path.join(fixtureCopy, 'logs/alto-demo/added_IVF37_Flat_nprobe_1_alto-demo_v2.index')),
        method: 8,
      },
    ]),
  );
  const input = path.join(folder, 'audio', 'tone-3s.wav');
  fs.mkdirSync(path.dirname(input), { recursive: true });
  fs.copyFileSync(inference.input, input);
  voices = {
    folder,
    zip: zipFile,
    voice: 'alto-demo',
    input,
    inputSeconds: inference.inputSeconds,
    modelSampleRate: inference.modelSampleRate,
    contentVecStandin: path.join(fixtureCopy, 'onnx/aux/vec-768-layer-12.standin.onnx'),
  };
}

// Untrusted: a store with one training, and a settings file that tries to point RVC at a program.
const untrusted = path.join(root, 'ws-untrusted');
fs.mkdirSync(untrusted, { recursive: true });
cli(untrusted, 'training', 'create', 'untrusted-voice', '--dataset', dataset);
// The renamed key's old name too (rvcStudio.pythonPath): an untrusted workspace cannot use it either.
writeSettings(untrusted, {
  'rvcStudio.rvc.root': rvc.root,
  'rvcStudio.rvc.pythonPath': rvc.python,
  'rvcStudio.pythonPath': rvc.python,
  ...quickRun,
});

// Multi-root: two folders, each with its own store.
const multiA = path.join(root, 'multi-a');
const multiB = path.join(root, 'multi-b');
fs.mkdirSync(multiA);
fs.mkdirSync(multiB);
cli(multiA, 'training', 'create', 'voice-a', '--dataset', dataset);
cli(multiB, 'training', 'create', 'voice-b', '--dataset', dataset);
const multiWorkspace = path.join(root, 'multi.code-workspace');
fs.writeFileSync(multiWorkspace, JSON.stringify({ folders: [{ path: multiA }, { path: multiB }] }, null, 2));

// Slurm (phase slurm): one training, its steps sent to the test cluster the phase starts
// (test/support/slurmCluster.ts names its one partition "debug"); squeue asked twice a second so a
// released job reaches the Tasks view quickly.
const slurm = path.join(root, 'ws-slurm');
fs.mkdirSync(slurm);
cli(slurm, 'training', 'create', 'slurm-voice', '--dataset', dataset);
writeSettings(slurm, {
  ...quickRun,
  'rvcStudio.runner.executor': 'slurm',
  'rvcStudio.slurm.partition': 'debug',
  'rvcStudio.slurm.pollSeconds': 0.5,
});
// `rpc`: where the in-host suite finds the answers of the outer runner, which holds the cluster and
// the browser (slurmChecks.mjs).
const slurmPhase = { folder: slurm, training: 'slurm-voice', partition: 'debug', rpc: path.join(root, 'slurm-rpc') };

// Walkthrough: a plain folder, no store and no trainings, as a new user's first workspace.
const fresh = path.join(root, 'ws-fresh');
fs.mkdirSync(fresh);

const context = {
  root,
  rvcRoot: rvc.root,
  python: rvc.python,
  dataset,
  fixtureCopy,
  trusted,
  untrusted,
  multiA,
  multiB,
  slurm: slurmPhase,
};
fs.writeFileSync(path.join(root, 'context.json'), JSON.stringify(context, null, 2));

const prepared = {
  userSettings: { 'rvcStudio.rvc.root': rvc.root, 'rvcStudio.rvc.pythonPath': rvc.python },
  trustedPhases: [
    { name: 'phaseTrusted', folder: trusted },
    // Opening the same folder again is a window reload: the task left running must come back.
    { name: 'phaseReload', folder: trusted },
  ],
  // Each on a fresh code-server profile: a workspace file opened in a profile that last showed a
  // single folder sometimes came up empty.
  isolatedPhases: [{ name: 'phaseMultiRoot', folder: multiWorkspace }],
  sidebar: {
    folder: trusted,
    expect: {
      Trainings: fixtureCopy ? ['alto-demo', 'demo-double'] : ['demo-double'],
      Tasks: ['demo-double · Train model'],
      Models: fixtureCopy ? ['alto-demo', 'demo-double'] : ['demo-double'],
    },
    expand: fixtureCopy
      ? {
          Trainings: { row: 'alto-demo', children: ['Preprocess', 'Train model', 'Train index', 'Metrics'] },
          Models: { row: 'alto-demo', children: ['alto-demo.pth', 'G_20.pth', 'added_IVF37_Flat_nprobe_1_alto-demo_v2.index'] },
        }
      : { Trainings: { row: 'demo-double', children: ['Preprocess', 'Train model', 'Train index'] } },
  },
  // null: fixtures absent, the inference panel check is skipped loudly.
  inference,
  // null: fixtures absent, the voice import check is skipped loudly.
  voices,
  untrustedPhases: [{ name: 'phaseUntrusted', folder: untrusted }],
  // Its own code-server: the first activation there must be the first the profile has seen.
  walkthrough: { folder: fresh },
  // Its own code-server too, started with the test cluster's SLURM_CONF.
  slurm: slurmPhase,
  // Stops the slow task the reload phase left running, so nothing outlives the run.
  cleanup: [path.join(repoRoot, 'test/integration/stopTasks.ts'), trusted],
};
fs.writeFileSync(path.join(root, 'prepared.json'), JSON.stringify(prepared, null, 2));
