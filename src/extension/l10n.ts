/**
 * `l10n.t` for the parts of src/extension that also run in plain Node (unit tests, no vscode):
 * activate() hands it vscode.l10n.t; until then (and in Node) it gives the English message with its
 * `{0}` … placeholders filled in, by the webviews' own formatString. Keys are the English strings, as with vscode.l10n.t; the l10n
 * bundle test collects both spellings' literals (and core's msg`…` ids, see localizedError).
 */
import { errorMessage, isUserError, type Message } from '../core/util/errors.ts';
import { formatString } from '../protocol/panelStrings.ts';

type Arg = string | number | boolean;
type Translate = (message: string, ...args: Arg[]) => string;

let translate: Translate = formatString;

export function useTranslator(fn: Translate): void {
  translate = fn;
}

export function t(message: string, ...args: Arg[]): string {
  return translate(message, ...args);
}

/** A core msg`…` sentence in the user's language: its id is the bundle key, its args fill the placeholders. */
export function localizedMessage({ id, args }: Message): string {
  return t(id, ...args);
}

/**
 * What the user reads for a failure: a UserError's sentence in their language (its id is the
 * bundle key, its args fill the placeholders; a plain-string one is its own id), anything else's
 * message as is. The log keeps the English `error.message`.
 */
export function localizedError(error: unknown): string {
  return isUserError(error) ? localizedMessage(error) : errorMessage(error);
}
