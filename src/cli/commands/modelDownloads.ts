import { AUX_MODELS, AuxModelCache, cliAuxCacheDir, requireAuxModelId, type AuxStatus } from '../../core/inference/auxModels.ts';
import { addVoice, listVoices, type VoiceRecord } from '../../core/models/voiceImport.ts';
import { describeProgress, useProxyFromEnvironment, type DownloadProgress } from '../../core/util/download.ts';
import type { CliCommand, CliContext } from '../command.ts';
import { formatBytes } from './models.ts';

/** The CLI's per-user cache of ContentVec/RMVPE, with the workspace's mirror and URL settings. */
export function cliAuxCache(ctx: CliContext): AuxModelCache {
  const settings = ctx.settings();
  return new AuxModelCache(cliAuxCacheDir(), { mirror: settings['models.mirror'], urls: settings['models.urls'] });
}

/** A redrawn bar on a terminal; one plain line per 10% otherwise (logs, CI). */
export function cliProgress(ctx: CliContext, label: string, tty = process.stderr.isTTY === true): (p: DownloadProgress) => void {
  let lastDecile = -1;
  return (p) => {
    if (ctx.json) return;
    if (tty) {
      const width = 24;
      const filled = p.total ? Math.min(width, Math.round((p.received / p.total) * width)) : 0;
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${describeProgress(p)}\x1b[K`);
      if (p.total !== null && p.received >= p.total) process.stderr.write('\n');
      return;
    }
    const decile = p.total ? Math.floor((p.received / p.total) * 10) : Math.floor(p.received / 50e6);
    if (decile !== lastDecile) ctx.info(`${label} ${describeProgress(p)}`);
    lastDecile = decile;
  };
}

function statusLine(s: AuxStatus): string {
  const size = s.record ? formatBytes(s.record.size) : `~${Math.round(s.entry.approxBytes / 1e6)} MB`;
  return `${s.entry.id.padEnd(14)} ${s.state.padEnd(8)} ${size.padStart(9)}  ${s.present ? s.path : `(not downloaded: rvc-studio models fetch ${s.entry.id})`}${
    s.record && s.present ? `  ${s.record.sha256.slice(0, 12)}` : ''
  }`;
}

function voiceLine(v: VoiceRecord): string {
  return `${v.name}  ${v.version} ${v.sampleRate / 1000}k${v.f0 ? '' : ' no-pitch'}  ${v.model.file} (${formatBytes(v.model.size)})${v.index ? `  index ${v.index.file}` : '  no index'}`;
}

const s = { type: 'string' } as const;

export const MODEL_DOWNLOAD_COMMANDS: CliCommand[] = [
  {
    path: ['models', 'fetch'],
    usage: 'contentvec-v2|contentvec-v1|rmvpe [--from URL] [--sha256 HEX] [--file PATH]',
    summary: 'download ContentVec or RMVPE into the per-user cache (resumed, checked by size and sha256), or take a local copy with --file',
    positionals: { min: 1, max: 1 },
    options: { from: s, sha256: s, file: s },
    async run(ctx, { positionals, values }) {
      const id = requireAuxModelId(positionals[0]!);
      const cache = cliAuxCache(ctx);
      const sha256 = typeof values.sha256 === 'string' ? values.sha256 : undefined;
      let status: AuxStatus;
      if (typeof values.file === 'string') {
        status = await cache.useLocalFile(id, values.file, { ...(sha256 ? { sha256 } : {}), warn: ctx.warn });
      } else {
        useProxyFromEnvironment();
        const from = typeof values.from === 'string' ? values.from : undefined;
        ctx.info(`downloading ${AUX_MODELS[id].label} from ${from ?? cache.sources.urls?.[id] ?? 'its catalogue URL'} to ${cache.dir}`);
        status = await cache.fetch(id, {
          ...(from ? { from } : {}),
          ...(sha256 ? { sha256 } : {}),
          signal: ctx.signal,
          onProgress: cliProgress(ctx, id),
          warn: ctx.warn,
        });
      }
      return { json: { model: status }, text: statusLine(status) };
    },
  },
  {
    path: ['models', 'cache'],
    usage: '',
    summary: 'the ContentVec and RMVPE files in the per-user cache: size, verified or pinned (trust on first use), or missing',
    run(ctx) {
      const cache = cliAuxCache(ctx);
      const models = cache.list();
      return { json: { dir: cache.dir, models }, text: [`cache ${cache.dir}`, ...models.map(statusLine)] };
    },
  },
  {
    path: ['models', 'add'],
    usage: 'ZIP|FOLDER|URL [--pick NAME] [--name NAME]',
    summary: 'add a shared voice (zip with NAME.pth + added_*.index, a folder, or a Hugging Face URL) as .rvc-studio/voices/NAME/',
    positionals: { min: 1, max: 1 },
    options: { pick: s, name: s },
    async run(ctx, { positionals, values }) {
      const source = positionals[0]!;
      if (/^https?:\/\//i.test(source)) useProxyFromEnvironment();
      const voice = await addVoice(ctx.workspaceDir, source, {
        ...(typeof values.pick === 'string' ? { pick: values.pick } : {}),
        ...(typeof values.name === 'string' ? { name: values.name } : {}),
        signal: ctx.signal,
        onProgress: cliProgress(ctx, 'download'),
      });
      if (!voice.index) ctx.warn(`${voice.name}: no added_*.index found; it converts without index retrieval.`);
      return {
        json: { voice },
        text: [
          `added ${voiceLine(voice)}`,
          `convert: rvc-studio infer --model ${voice.model.file} --input in.wav --output out.wav${voice.index ? ` --index ${voice.index.file}` : ''}`,
        ],
      };
    },
  },
  {
    path: ['models', 'voices'],
    usage: '',
    summary: 'the voices added to this workspace with "models add"',
    run(ctx) {
      const voices = listVoices(ctx.workspaceDir);
      return { json: { voices }, text: voices.length ? voices.map(voiceLine) : 'no voices added yet' };
    },
  },
];
