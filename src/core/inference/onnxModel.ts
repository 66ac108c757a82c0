import * as fs from 'node:fs';
import * as path from 'node:path';
import { msg, UserError, isMissingFile } from '../util/errors.ts';
import { onnxRuntime, openSession, type OrtSession } from './onnxRuntime.ts';
import { readManifest, readTensor, writeTensor, type RawTensor, type TensorDtype, type TensorEntry } from './tensorFiles.ts';

export interface TensorInfo {
  name: string;
  type: string;
  /** Fixed sizes as numbers, dynamic axes by their symbolic name. */
  shape: (number | string)[];
}

export interface ModelDescription {
  file: string;
  size: number;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** What kind of model this looks like, from its signature. */
  kind: 'rvc-synthesizer' | 'contentvec' | 'rmvpe' | 'unknown';
  /** Content feature width: 256 (v1) or 768 (v2) for a synthesizer or ContentVec. */
  featureSize: number | null;
  /** For a synthesizer: whether it takes pitch (RVC's f0 models) or not (no-pitch exports). */
  f0: boolean | null;
}

const PITCH_SYNTHESIZER = 'ds,phone,phone_lengths,pitch,pitchf,rnd';
const NO_PITCH_SYNTHESIZER = 'ds,phone,phone_lengths,rnd';

function infos(metadata: readonly unknown[]): TensorInfo[] {
  return metadata.map((m) => {
    const meta = m as { name: string; isTensor: boolean; type?: string; shape?: (number | string)[] };
    return { name: meta.name, type: meta.isTensor ? (meta.type ?? 'unknown') : 'non-tensor', shape: meta.shape ? [...meta.shape] : [] };
  });
}

export function describeSession(file: string, session: OrtSession): ModelDescription {
  const inputs = infos(session.inputMetadata);
  const outputs = infos(session.outputMetadata);
  const names = inputs
    .map((i) => i.name)
    .sort()
    .join(',');
  let kind: ModelDescription['kind'] = 'unknown';
  let featureSize: number | null = null;
  let f0: boolean | null = null;
  if (names === PITCH_SYNTHESIZER || names === NO_PITCH_SYNTHESIZER) {
    kind = 'rvc-synthesizer';
    f0 = names === PITCH_SYNTHESIZER;
    const width = inputs.find((i) => i.name === 'phone')!.shape[2];
    featureSize = typeof width === 'number' ? width : null;
  } else if (inputs.length === 1 && outputs.length === 1 && inputs[0]!.shape.length === 3 && inputs[0]!.shape[1] === 1) {
    kind = 'contentvec';
    const width = outputs[0]!.shape[2];
    featureSize = typeof width === 'number' ? width : null;
  } else if (inputs.length === 1 && inputs[0]!.shape.length === 3 && inputs[0]!.shape[1] === 128) {
    kind = 'rmvpe';
  }
  return { file, size: fs.statSync(file).size, inputs, outputs, kind, featureSize, f0 };
}

export async function inspectModel(file: string): Promise<ModelDescription> {
  requireFile(file, 'Model');
  const session = await openSession(file);
  try {
    return describeSession(file, session);
  } finally {
    await session.release();
  }
}

export function requireFile(file: string, what: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    if (!isMissingFile(error)) throw error;
    throw new UserError(msg`${what} file ${file} does not exist.`, 'not-found');
  }
  if (!stat.isFile()) throw new UserError(msg`${what} ${file} is not a file.`, 'not-a-file');
}

/**
 * Checks the synthesizer signature RVC's export writes (§1.8), so a wrong file fails with a line
 * naming what is missing instead of an onnxruntime shape error deep in a run.
 */
export function checkSynthesizer(description: ModelDescription): number {
  const need: Record<string, string> = { phone: 'float32', phone_lengths: 'int64', ds: 'int64', rnd: 'float32' };
  // A no-pitch export has neither pitch input; a pitch model needs both.
  if (description.f0 !== false) Object.assign(need, { pitch: 'int64', pitchf: 'float32' });
  const have = new Map(description.inputs.map((i) => [i.name, i]));
  const problems: string[] = [];
  for (const [name, type] of Object.entries(need)) {
    const input = have.get(name);
    if (!input) problems.push(`no input "${name}"`);
    else if (input.type !== type) problems.push(`"${name}" is ${input.type}, not ${type}`);
  }
  if (!description.outputs.some((o) => o.name === 'audio')) problems.push('no output "audio"');
  const width = description.featureSize;
  if (problems.length === 0 && width !== 256 && width !== 768) problems.push(`"phone" has width ${String(width)}, not 256 or 768`);
  if (problems.length > 0) {
    throw new UserError(msg`${path.basename(description.file)} is not an RVC voice model (${problems.join('; ')}).`, 'bad-model-signature');
  }
  return width!;
}

export interface RunResult {
  outputDir: string;
  manifest: string;
  outputs: Record<string, TensorEntry>;
  costMs: number;
}

/**
 * `model run`: feeds the manifest's raw tensors to the model and writes every output as a raw
 * little-endian file plus a manifest, for comparing an export against a reference bit for bit.
 */
export async function runModelWithManifest(modelFile: string, manifestFile: string, outputDir: string): Promise<RunResult> {
  requireFile(modelFile, 'Model');
  requireFile(manifestFile, 'Manifest');
  const manifest = readManifest(manifestFile);
  const baseDir = path.dirname(path.resolve(manifestFile));
  const ort = onnxRuntime();
  const session = await openSession(modelFile, { threads: 1 });
  try {
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const name of session.inputNames) {
      const entry = manifest.inputs[name];
      if (!entry)
        throw new UserError(
          msg`${manifestFile} has no tensor for the model's input "${name}" (it needs ${session.inputNames.join(', ')}).`,
          'bad-manifest',
        );
      const tensor = readTensor(baseDir, entry);
      feeds[name] = new ort.Tensor(tensor.dtype, tensor.data as never, tensor.shape);
    }
    const start = performance.now();
    const results = await session.run(feeds);
    const costMs = performance.now() - start;
    fs.mkdirSync(outputDir, { recursive: true });
    const outputs: Record<string, TensorEntry> = {};
    for (const name of session.outputNames) {
      const value = results[name]!;
      const raw: RawTensor = { dtype: value.type as TensorDtype, shape: [...value.dims], data: value.data as RawTensor['data'] };
      outputs[name] = writeTensor(outputDir, name, raw);
    }
    const manifestOut = path.join(outputDir, 'manifest.json');
    fs.writeFileSync(
      manifestOut,
      JSON.stringify(
        { model: path.basename(modelFile), byte_order: 'little-endian, C-contiguous (row-major)', outputs, cost_ms: costMs },
        null,
        2,
      ) + '\n',
    );
    return { outputDir, manifest: manifestOut, outputs, costMs };
  } finally {
    await session.release();
  }
}
