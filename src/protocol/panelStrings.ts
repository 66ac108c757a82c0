/**
 * Helpers for the strings objects the panel hosts send in their init messages (InferenceStrings,
 * MetricsStrings): the host fills them with l10n.t, the webview renders from them. Messages with
 * values keep `{0}` … placeholders, as vscode.l10n.t's do, because functions cannot cross postMessage.
 */

/** A strings object: text, or nested groups of text. */
export interface StringTable {
  readonly [key: string]: string | StringTable;
}

/** Fills `{0}` … with the arguments; a placeholder without an argument stays as written. */
export function formatString(template: string, ...args: (string | number | boolean)[]): string {
  return template.replace(/\{(\d+)\}/g, (whole, index: string) => (Number(index) < args.length ? String(args[Number(index)]) : whole));
}

/**
 * The host's strings checked against the English defaults: every key of `defaults` comes back, from
 * `raw` where it has a string there, else the default. The host may be another version: a missing
 * or malformed entry never leaves a hole in the panel.
 */
export function mergeStrings<T extends StringTable>(defaults: T, raw: unknown): T {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return defaults;
  const source = raw as Record<string, unknown>;
  const merged: Record<string, string | StringTable> = {};
  for (const [key, fallback] of Object.entries(defaults)) {
    const value = Object.hasOwn(source, key) ? source[key] : undefined;
    merged[key] = typeof fallback === 'string' ? (typeof value === 'string' ? value : fallback) : mergeStrings(fallback, value);
  }
  return merged as T;
}

/** The webview's reader of one panel's strings (the host's, checked against `defaults` by mergeStrings). */
export const stringsParser =
  <T extends StringTable>(defaults: T) =>
  (raw: unknown): T =>
    mergeStrings(defaults, raw);
