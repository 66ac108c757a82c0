import * as fs from 'node:fs';
import * as path from 'node:path';
import { msg, UserError } from '../../util/errors.ts';
import type { FloatTensor, RvcModel } from '../rvcCheckpoint.ts';
import { encodeModel } from './onnxProto.ts';
import type { WeightSource } from './synthLayers.ts';
import { buildSynthesizerGraph, type SynthesizerSpec } from './synthesizerGraph.ts';

/**
 * `.pth` → ONNX without Python: the synthesizer graph built from the model's config, with its
 * weights (weight norm folded) as initializers, written to a temporary file and renamed into place,
 * so a failed or interrupted export never leaves a file that looks like a model.
 */

/** Bumped whenever the graph changes, so cached exports are rebuilt. */
export const EXPORTER_VERSION = 1;
const OPSET = 18; // RVC's own export asks for 18; BitwiseXor (the seeded source noise) needs it

export interface ExportOptions {
  noiseFree?: boolean;
  /** Called as weights are read, for progress: done and total weight tensors. */
  onProgress?: (done: number, total: number) => void;
  /** The source's recorded mtime, taken before it was hashed; written into the sidecar. */
  sourceMtimeMs?: number;
}

export interface ExportSidecar {
  sampleRate: number;
  version: 'v1' | 'v2';
  f0: boolean;
  speakers: number;
  featureSize: 256 | 768;
  epoch: number | null;
  kind: RvcModel['kind'];
  noiseFree: boolean;
  /** `mtimeMs`: the source's mtime when it was hashed (export cache only), so an unchanged file is not hashed again. */
  source: { path: string; sha256: string; bytes: number; mtimeMs?: number };
  exporter: { name: 'rvc-studio'; version: number };
}

export interface ExportResult {
  file: string;
  bytes: number;
  ms: number;
  nodes: number;
  sidecar: ExportSidecar;
}

export function synthesizerSpec(model: RvcModel): SynthesizerSpec {
  const c = model.config;
  return {
    featureSize: model.featureSize,
    f0: model.f0,
    sampleRate: model.sampleRate,
    interChannels: c.inter_channels,
    hiddenChannels: c.hidden_channels,
    filterChannels: c.filter_channels,
    heads: c.n_heads,
    layers: c.n_layers,
    kernelSize: c.kernel_size,
    resblock: c.resblock,
    resblockKernelSizes: c.resblock_kernel_sizes,
    resblockDilationSizes: c.resblock_dilation_sizes,
    upsampleRates: c.upsample_rates,
    upsampleInitialChannel: c.upsample_initial_channel,
    upsampleKernelSizes: c.upsample_kernel_sizes,
  };
}

function progressWeights(model: RvcModel, onProgress: ExportOptions['onProgress']): WeightSource {
  const names = new Set(model.tensorNames());
  let done = 0;
  return {
    async tensor(name): Promise<FloatTensor> {
      if (!names.has(name))
        throw new UserError(
          msg`${path.basename(model.file)} has no weight ${name}, which its config needs; it is not a complete RVC model.`,
          'bad-model',
        );
      const tensor = await model.tensor(name);
      onProgress?.(++done, names.size);
      return tensor;
    },
  };
}

export function sidecarFor(model: RvcModel, noiseFree: boolean, sourceMtimeMs?: number): ExportSidecar {
  return {
    sampleRate: model.sampleRate,
    version: model.version,
    f0: model.f0,
    speakers: model.speakers,
    featureSize: model.featureSize,
    epoch: model.epoch,
    kind: model.kind,
    noiseFree,
    source: {
      path: path.resolve(model.file),
      sha256: model.sha256,
      bytes: model.bytes,
      ...(sourceMtimeMs !== undefined ? { mtimeMs: sourceMtimeMs } : {}),
    },
    exporter: { name: 'rvc-studio', version: EXPORTER_VERSION },
  };
}

/** Writes `out` (and `out.json`, the sidecar) from an opened RVC model. */
export async function exportRvcModel(model: RvcModel, out: string, options: ExportOptions = {}): Promise<ExportResult> {
  const started = performance.now();
  const noiseFree = options.noiseFree ?? false;
  const graph = await buildSynthesizerGraph(synthesizerSpec(model), progressWeights(model, options.onProgress), { noiseFree });
  const sidecar = sidecarFor(model, noiseFree, options.sourceMtimeMs);
  const parts = encodeModel({
    irVersion: 8,
    opset: OPSET,
    producerName: 'rvc-studio',
    producerVersion: String(EXPORTER_VERSION),
    docString: `RVC ${model.version} ${model.f0 ? 'pitch' : 'no-pitch'} synthesizer, ${model.sampleRate} Hz, from ${path.basename(model.file)}`,
    metadata: {
      sample_rate: String(model.sampleRate),
      version: model.version,
      f0: model.f0 ? '1' : '0',
      speakers: String(model.speakers),
      source_sha256: model.sha256,
    },
    graph,
  });
  const bytes = await writeAtomically(out, parts);
  await writeAtomically(`${out}.json`, [Buffer.from(JSON.stringify(sidecar, null, 2) + '\n')]);
  return { file: path.resolve(out), bytes, ms: performance.now() - started, nodes: graph.nodes.length, sidecar };
}

async function writeAtomically(file: string, parts: readonly Buffer[]): Promise<number> {
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir)) throw new UserError(msg`Cannot write ${file}: folder ${dir} does not exist.`, 'not-found');
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.partial`);
  let bytes = 0;
  const handle = await fs.promises.open(temp, 'w');
  try {
    // An encoded graph is tens of thousands of tiny buffers (tags, lengths, names) between the big
    // weight blobs: gather the small ones so each write is large, and hand big blobs over as they are.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      if (pendingBytes > 0) await writeAll(handle, Buffer.concat(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
    };
    for (const part of parts) {
      bytes += part.length;
      if (part.length >= 1 << 16) {
        await flush();
        await writeAll(handle, part);
        continue;
      }
      pending.push(part);
      pendingBytes += part.length;
      if (pendingBytes >= 1 << 20) await flush();
    }
    await flush();
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.promises.rm(temp, { force: true });
    throw writeError(file, error);
  }
  await handle.close();
  await fs.promises.rename(temp, file);
  return bytes;
}

async function writeAll(handle: fs.promises.FileHandle, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) offset += (await handle.write(buffer, offset)).bytesWritten;
}

function writeError(file: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC')
    return new UserError(
      msg`The disk is full: ${file} was not written (nothing half-written was left). Free some space and export again.`,
      'disk-full',
      { cause: error },
    );
  if (code === 'EACCES' || code === 'EROFS')
    return new UserError(msg`Cannot write ${file} (${code}): choose a folder you can write to.`, 'not-writable', { cause: error });
  return error as Error;
}
