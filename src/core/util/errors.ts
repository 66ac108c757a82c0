/**
 * A failure the user can fix (bad input, wrong path, refused database). Front ends show its message
 * as is — one actionable line, no stack trace — and the CLI exits with 1. Anything else is a bug
 * (exit 2).
 */
export class UserError extends Error {
  override name = 'UserError';
  readonly code: string;
  constructor(message: string, code = 'user-error', options?: ErrorOptions) {
    super(message, options);
    this.code = code;
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
