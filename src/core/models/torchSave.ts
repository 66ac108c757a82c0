import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { pickleForTorchSave, type SaveValue } from './pickleWriter.ts';
import { torchZip } from './torchZipWriter.ts';

/**
 * `torch.save(root, file)` as torch 1.13 writes it, so a file RVC Studio writes is one torch.load
 * (with and without weights_only) and RVC read: `<archive>/data.pkl` (protocol 2), one
 * `<archive>/data/<key>` per storage in string order ("0", "1", "10", "100" …), then
 * `<archive>/version` = "3\n". `<archive>` is the file's basename up to its last dot, as torch names
 * it. Nothing depends on time or place: the same root and file name give the same bytes.
 */
export function torchSaveChunks(fileName: string, root: SaveValue): Buffer[] {
  const archive = archiveName(fileName);
  const { pickle, storages } = pickleForTorchSave(root);
  const sorted = [...storages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return torchZip([
    { name: `${archive}/data.pkl`, data: pickle },
    ...sorted.map(([key, data]) => ({ name: `${archive}/data/${key}`, data })),
    { name: `${archive}/version`, data: Buffer.from('3\n', 'latin1') },
  ]);
}

export function archiveName(fileName: string): string {
  const base = path.basename(fileName);
  const dot = base.lastIndexOf('.');
  return dot === -1 ? base : base.slice(0, dot);
}

/**
 * Writes beside the target and renames it into place, so a failed write never leaves half a model
 * and writing over the input (set-info --in-place) is safe once the input has been read.
 */
export async function saveTorchFile(file: string, root: SaveValue): Promise<void> {
  const chunks = torchSaveChunks(file, root);
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.partial`);
  const handle = await fsp.open(temp, 'w');
  try {
    for (const chunk of chunks) await handle.write(chunk);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fsp.rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fsp.rename(temp, file);
  } catch (error) {
    await fsp.rm(temp, { force: true });
    throw error;
  }
}
