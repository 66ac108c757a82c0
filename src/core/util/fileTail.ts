import * as fs from 'node:fs';

/**
 * The last `bytes` of a file as text, or "" when it cannot be read. RVC's logs and task outputs can
 * be large and still growing; their verdict lines ("Training is done", a traceback) are at the end.
 */
export function readFileTail(file: string, bytes = 64 * 1024): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.min(bytes, size);
      const buffer = Buffer.alloc(length);
      fs.readSync(fd, buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Documented: "" when it cannot be read (absent, or removed while read); callers treat "" as no verdict.
    return '';
  }
}
