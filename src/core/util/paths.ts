import * as fs from 'node:fs';
import * as path from 'node:path';
import { msg, UserError } from './errors.ts';

/**
 * The one path-safety helper: every path built from user input, a webview message or a database row
 * goes through here before it is read, written or handed to a process.
 */

export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(path.resolve(root), path.resolve(candidate));
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Joins segments onto root and refuses a result outside root (`..`, absolute segments). */
export function resolveInside(root: string, ...segments: string[]): string {
  const resolved = path.resolve(root, ...segments);
  if (!isInside(root, resolved)) {
    throw new UserError(msg`${segments.join('/')} would leave ${root}; paths must stay inside it.`, 'path-escape');
  }
  return resolved;
}

/**
 * Like resolveInside, and also follows symlinks of the part that exists, so a link pointing out of
 * root is refused too.
 */
export function resolveInsideReal(root: string, ...segments: string[]): string {
  const lexical = resolveInside(root, ...segments);
  const realRoot = realpathOrSelf(root);
  const realTarget = realpathOfExistingPrefix(lexical);
  if (!isInside(realRoot, realTarget)) {
    throw new UserError(msg`${lexical} resolves through a link to ${realTarget}, outside ${root}.`, 'path-escape');
  }
  return lexical;
}

function realpathOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function realpathOfExistingPrefix(p: string): string {
  let existing = p;
  const rest: string[] = [];
  while (!fs.existsSync(existing)) {
    const parent = path.dirname(existing);
    if (parent === existing) return p;
    rest.unshift(path.basename(existing));
    existing = parent;
  }
  return path.join(fs.realpathSync(existing), ...rest);
}
