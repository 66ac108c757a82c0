/**
 * A user-facing sentence as data: `id` is its English with `{0}`, `{1}` … where the values go, which
 * is also its key in the l10n bundles (vscode.l10n.t's spelling), and `args` are those values. Core
 * builds it with `msg`; the extension translates it, the CLI prints `formatMessage`'s English. Plain
 * data, so it survives a worker's postMessage.
 */
export interface Message {
  readonly id: string;
  readonly args: readonly string[];
}

/**
 * msg`No training named ${name}.` gives `{ id: 'No training named {0}.', args: [name] }`. The values
 * are turned into strings the way an untagged template would, so the English reads exactly as before.
 */
export function msg(strings: TemplateStringsArray, ...values: unknown[]): Message {
  const id = strings.slice(1).reduce((text, part, i) => `${text}{${i}}${part}`, strings[0]!);
  return { id, args: values.map((value) => String(value)) };
}

/** The English sentence: each `{n}` of the id replaced by its value (one with no value stays as is). */
export function formatMessage({ id, args }: Message): string {
  return id.replace(/\{(\d+)\}/g, (whole, index: string) => args[Number(index)] ?? whole);
}

/**
 * A failure the user can fix (bad input, wrong path, refused database). Front ends show its message
 * as is — one actionable line, no stack trace — and the CLI exits with 1. Anything else is a bug
 * (exit 2). `message` is the English; `id` and `args` let the extension show it in the user's
 * language (a plain-string message is its own id, with no values).
 */
export class UserError extends Error {
  override name = 'UserError';
  readonly code: string;
  readonly id: string;
  readonly args: readonly string[];
  constructor(message: string | Message, code = 'user-error', options?: ErrorOptions) {
    const text = typeof message === 'string' ? { id: message, args: [] } : message;
    super(formatMessage(text), options);
    this.code = code;
    this.id = text.id;
    this.args = text.args;
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A UserError with one of these codes ("no-task", "no-training" …): what a caller may treat as
 * "not there" while anything else (a failing store, an ambiguous id) still propagates.
 */
export function isUserErrorCode(error: unknown, ...codes: string[]): error is UserError {
  return error instanceof UserError && codes.includes(error.code);
}

/**
 * A file-system error meaning "that path is not there" (ENOENT, or ENOTDIR for a parent that is a
 * file): what a caller may treat as absent while EACCES, EIO or EMFILE still propagate.
 */
export function isMissingFile(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
