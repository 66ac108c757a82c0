/**
 * The --json contract (README "JSON output"): every document is an object with `schema` first, keys
 * in the store's snake_case (the seed schema's column names and the WebUI's parameter names), and
 * none of the runner's bookkeeping. Commands build their answers from the core's objects; this is
 * the one place that turns them into the contract, so no command can drift from it.
 */

/** Bumped when a key is renamed or removed, or a value changes type; new keys do not bump it. */
export const JSON_SCHEMA_VERSION = 1;

/** The runner's own bookkeeping: how it tails a log, who holds a claim, a pending cancel. */
export const INTERNAL_FIELDS: ReadonlySet<string> = new Set(['log_offset', 'claimed_by', 'cancel_requested', 'runner_id']);

const DATA_MAPS = new WeakSet<object>();

/**
 * Marks MAP as data keyed by user or tool names (WebUI parameters, environment variables, metric
 * tags, tensor names, a checkpoint's metadata): printed as it is, its keys neither converted nor
 * filtered. Returns MAP itself, so the command's text output reads it unchanged.
 */
export function dataMap<T extends object>(map: T): T {
  DATA_MAPS.add(map);
  return map;
}

export function snakeCase(key: string): string {
  // Only identifier-shaped keys are field names; tags ("loss/g/total") and paths stay as they are.
  if (!/^[a-z][A-Za-z0-9]*$/.test(key)) return key;
  return key.replace(/[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z]/g, (upper) => `_${upper.toLowerCase()}`);
}

function convert(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(convert);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  if (DATA_MAPS.has(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const name = snakeCase(key);
    if (INTERNAL_FIELDS.has(name) || inner === undefined) continue;
    out[name] = convert(inner);
  }
  return out;
}

/** A command's answer as the document --json prints: `{ schema, ...answer }`. */
export function toJsonDocument(answer: unknown): Record<string, unknown> {
  const converted = convert(answer);
  const body =
    converted !== null && typeof converted === 'object' && !Array.isArray(converted)
      ? (converted as Record<string, unknown>)
      : converted === null || converted === undefined
        ? {}
        : { result: converted };
  // `schema` comes first and is ours: an answer's own `schema` key cannot replace it.
  return Object.assign({ schema: JSON_SCHEMA_VERSION }, body, { schema: JSON_SCHEMA_VERSION });
}
