import { formatMessage, msg, type Message } from './errors.ts';

/**
 * A training name becomes a folder name (logs/{name}, assets/weights/{name}.pth), so it must be a
 * safe single path segment on Linux, macOS and Windows alike.
 */

export interface NameCheck {
  /** The reason the name is refused, in English, or undefined when it is usable. */
  error?: string;
  /** The same reason as a message id and values: what a UserError or the extension's form shows. */
  reason?: Message;
  /** Usable, but worth telling the user about. */
  warnings: string[];
}

export const MAX_TRAINING_NAME_LENGTH = 64;

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
const WINDOWS_FORBIDDEN = /[<>:"|?*]/;

export function checkTrainingName(name: string): NameCheck {
  const warnings: string[] = [];
  const fail = (reason: Message): NameCheck => ({ error: formatMessage(reason), reason, warnings });
  if (name.length === 0 || name.trim().length === 0) return fail(msg`The training name is empty.`);
  if ([...name].length > MAX_TRAINING_NAME_LENGTH) {
    return fail(msg`The training name is longer than ${MAX_TRAINING_NAME_LENGTH} characters.`);
  }
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return fail(msg`The training name contains control characters.`);
  if (name.includes('/') || name.includes('\\')) {
    return fail(msg`The training name contains a path separator (/ or \\); it must be a single folder name.`);
  }
  if (name === '.' || name === '..' || name.includes('..')) return fail(msg`The training name must not contain "..".`);
  if (name.startsWith('.')) return fail(msg`The training name must not start with a dot (it would be a hidden folder).`);
  if (/[. ]$/.test(name)) return fail(msg`The training name must not end with a dot or a space (Windows drops them).`);
  if (/^\s/.test(name)) return fail(msg`The training name must not start with a space.`);
  if (WINDOWS_FORBIDDEN.test(name))
    return fail(msg`The training name contains a character Windows forbids in folder names (< > : " | ? *).`);
  if (WINDOWS_RESERVED.test(name)) return fail(msg`"${name}" is a reserved device name on Windows (CON, NUL, COM1 …).`);
  if (/[^\x20-\x7e]/.test(name)) {
    warnings.push("The name has non-ASCII characters: RVC's index step fails on non-ASCII paths on some systems (RVC issue #2331).");
  }
  return { warnings };
}

/** Throws-style variant for callers that want one line. */
export function trainingNameError(name: string): string | undefined {
  return checkTrainingName(name).error;
}
