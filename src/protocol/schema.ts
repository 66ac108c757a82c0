/**
 * One way to declare a message: a schema built from these few combinators gives both the
 * TypeScript type (`Infer<typeof S>`) and the runtime check, so the two cannot drift apart. Hand
 * written rather than a library: the webview bundles carry it, and what the channels need is small
 * (strict objects, limits, a union by `type`, and the webview's lenient reads of host messages).
 * Plain data, no vscode and no DOM.
 *
 * A check never throws (a hostile message gets a reason, not an exception) and returns a copy that
 * holds only the declared fields, so nothing the schema did not name reaches the code behind it.
 */

/** Why a value was refused. A class, so that no checked value can be mistaken for one. */
export class Invalid {
  readonly reason: string;
  /** A whole sentence (it names its field): an enclosing object does not prefix its key. */
  readonly whole: boolean;
  constructor(reason: string, whole = false) {
    this.reason = reason;
    this.whole = whole;
  }
}

export interface Schema<T> {
  /** The checked copy of `value`, or why it is refused. */
  read(value: unknown): T | Invalid;
  /** Set by `optional`: an object field that may be absent. */
  readonly optional?: boolean;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

export const isInvalid = (v: unknown): v is Invalid => v instanceof Invalid;

/** `schema`'s verdict on `value` as a result object. */
export function check<T>(schema: Schema<T>, value: unknown): Checked<T> {
  const read = schema.read(value);
  return isInvalid(read) ? { ok: false, reason: read.reason } : { ok: true, value: read };
}

/** Whether `value` passes `schema`, as a type guard (the value itself, not the copy, is what the caller keeps). */
export function passes<T>(schema: Schema<T>, value: unknown): value is T {
  return !isInvalid(schema.read(value));
}

const schema = <T>(read: (value: unknown) => T | Invalid): Schema<T> => ({ read });
const refuse = (reason: string, whole = false) => new Invalid(reason, whole);

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---- leaves -----------------------------------------------------------------------------------

export interface StrLimits {
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** Refuse a NUL character (paths: the OS would cut the string there). */
  noNul?: boolean;
}

export function str(limits: StrLimits = {}): Schema<string> {
  const { min = 0, max = Infinity, pattern, noNul = false } = limits;
  return schema((v) =>
    typeof v === 'string' && v.length >= min && v.length <= max && (!pattern || pattern.test(v)) && !(noNul && v.includes('\0'))
      ? v
      : refuse('must be a string'),
  );
}

/** The longest path any channel accepts. */
export const MAX_PATH = 4096;
/** A non-empty path of at most MAX_PATH characters without NUL; the host confines it before use. */
export const path = (): Schema<string> => str({ min: 1, max: MAX_PATH, noNul: true });

/** Any number, NaN and ±Infinity included (they cannot cross JSON, but a guard says nothing of them). */
export const anyNum = (): Schema<number> => schema((v) => (typeof v === 'number' ? v : refuse('must be a number')));

/** A finite number in [min, max]. */
export function num(min = -Infinity, max = Infinity): Schema<number> {
  return schema((v) => (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : refuse('must be a finite number')));
}

/** A safe integer in [min, max]. */
export function int(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Schema<number> {
  return schema((v) =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : refuse('must be an integer'),
  );
}

export const bool = (): Schema<boolean> => schema((v) => (typeof v === 'boolean' ? v : refuse('must be a boolean')));

/** One of a fixed list of values (string-literal tags, sample-rate choices). */
export function oneOf<const T extends readonly (string | number | boolean | null)[]>(values: T): Schema<T[number]> {
  return schema((v) => (values.includes(v as T[number]) ? (v as T[number]) : refuse(`must be one of ${values.join(', ')}`)));
}

export const literal = <const T extends string | number | boolean | null>(value: T): Schema<T> => oneOf([value] as const);

/** Anything, unchecked: for a field a guard only needs to be present in some form. */
export const unknownValue = (): Schema<unknown> => schema((v) => v);

// ---- wrappers ---------------------------------------------------------------------------------

export const nullable = <T>(inner: Schema<T>): Schema<T | null> => schema((v) => (v === null ? null : inner.read(v)));

/** An object field that may be absent (left out of the copy, `inner` not asked); present, it must pass `inner`. */
export function optional<T>(inner: Schema<T>): Schema<Exclude<T, undefined>> & { optional: true } {
  // `object` skips an absent field, and leaves out one that a fallback turned into undefined.
  return { optional: true, read: (v) => inner.read(v) as Exclude<T, undefined> | Invalid };
}

/** Replaces the reason `inner` gives with a whole sentence of the protocol's own. */
export function withMessage<T>(inner: Schema<T>, message: string): Schema<T> {
  return schema((v) => {
    const read = inner.read(v);
    return isInvalid(read) ? refuse(message, true) : read;
  });
}

/** Words what `inner` expects, for its enclosing object to prefix with the key: `mustBe(path(), 'a path')` → "folder must be a path". */
export function mustBe<T>(inner: Schema<T>, what: string): Schema<T> {
  return schema((v) => {
    const read = inner.read(v);
    return isInvalid(read) ? refuse(`must be ${what}`) : read;
  });
}

/** A further check on what `inner` accepted (ranges across fields, formats): null when fine, else the reason. */
export function refine<T>(inner: Schema<T>, problem: (value: T) => string | null): Schema<T> {
  return schema((v) => {
    const read = inner.read(v);
    if (isInvalid(read)) return read;
    const reason = problem(read);
    return reason === null ? read : refuse(reason, true);
  });
}

/** Turns what `inner` accepted into another value (a trimmed name, a filled-in default). */
export function map<T, U>(inner: Schema<T>, to: (value: T) => U): Schema<U> {
  return schema((v) => {
    const read = inner.read(v);
    return isInvalid(read) ? read : to(read);
  });
}

/** Adjusts the raw value before `inner` checks it. */
export const before = <T>(adjust: (raw: unknown) => unknown, inner: Schema<T>): Schema<T> => schema((v) => inner.read(adjust(v)));

/** Never refuses: what `make` returns stands in for anything `inner` refuses (the webview's reads of host data). */
export function fallback<T, F>(inner: Schema<T>, make: () => F): Schema<T | F> {
  return schema((v) => {
    const read = inner.read(v);
    return isInvalid(read) ? make() : read;
  });
}

/**
 * Data checked only for being an object and typed as `T`: what the webview merges with its own
 * defaults (saved presets of older versions lack newer fields), so a full check would refuse them.
 */
export function mergeable<T extends object>(): Schema<T> {
  return schema((v) => (isObj(v) ? (v as T) : refuse('must be an object')));
}

// ---- collections ------------------------------------------------------------------------------

export interface ListLimits {
  min?: number;
  max?: number;
}

export function arrayOf<T>(item: Schema<T>, limits: ListLimits = {}): Schema<T[]> {
  const { min = 0, max = Infinity } = limits;
  return schema((v) => {
    if (!Array.isArray(v) || v.length < min || v.length > max) return refuse('must be a list');
    const out: T[] = [];
    for (const entry of v) {
      const read = item.read(entry);
      if (isInvalid(read)) return refuse('must be a list');
      out.push(read);
    }
    return out;
  });
}

/** A list of which only the entries `item` accepts are kept (the webview drops what it cannot draw). */
export function filteredArrayOf<T>(item: Schema<T>): Schema<T[]> {
  return schema((v) => {
    if (!Array.isArray(v)) return refuse('must be a list');
    return v.map((entry) => item.read(entry)).filter((read): read is T => !isInvalid(read));
  });
}

/** A string-keyed map whose values pass `value`; at most `maxKeys` keys. */
export function record<T>(value: Schema<T>, maxKeys = Infinity): Schema<Record<string, T>> {
  return schema((v) => {
    if (!isObj(v) || Object.keys(v).length > maxKeys) return refuse('must be an object');
    const entries: [string, T][] = [];
    for (const [key, entry] of Object.entries(v)) {
      const read = value.read(entry);
      if (isInvalid(read)) return refuse(`${key} ${read.reason}`, true);
      entries.push([key, read]);
    }
    // fromEntries defines the keys, so a "__proto__" key stays a plain key.
    return Object.fromEntries(entries);
  });
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

export interface ObjectOptions {
  /** Allow fields the shape does not name (they are left out of the copy): for host messages, which may come from another version. */
  loose?: boolean;
  /** The whole sentence for a value that is no object at all ("params is not an object"). */
  notObject?: string;
}

/** Fields the shape does not name, or null. */
function unexpectedFields(value: Obj, known: readonly string[]): string | null {
  const extra = Object.keys(value).filter((k) => !known.includes(k));
  return extra.length > 0 ? `unexpected field(s) ${extra.join(', ').slice(0, 200)}` : null;
}

/** An object with exactly these fields (unknown ones refused unless `loose`); a field's reason is prefixed with its key. */
export function object<S extends Shape>(shape: S, options: ObjectOptions = {}): Schema<ObjectOf<S>> {
  const keys = Object.keys(shape);
  return {
    read: (v) => {
      if (!isObj(v)) return options.notObject ? refuse(options.notObject, true) : refuse('must be an object');
      const extra = options.loose ? null : unexpectedFields(v, keys);
      if (extra) return refuse(extra, true);
      const out: Obj = {};
      for (const key of keys) {
        const field = shape[key]!;
        const raw = Object.hasOwn(v, key) ? v[key] : undefined;
        if (field.optional && raw === undefined) continue;
        const read = field.read(raw);
        if (isInvalid(read)) return read.whole ? read : refuse(`${key} ${read.reason}`, true);
        if (read !== undefined || !field.optional) out[key] = read;
      }
      return out as ObjectOf<S>;
    },
  };
}

type Variants = Record<string, Schema<object>>;
export type UnionOf<V extends Variants> = { [K in keyof V]: Infer<V[K]> }[keyof V];

/**
 * A discriminated union by its `type` field: the variant named by `type` checks the rest (each
 * variant declares `type: literal(...)` itself, so the inferred type carries the tag).
 */
export function union<V extends Variants>(variants: V): Schema<UnionOf<V>> {
  return schema((v) => {
    if (!isObj(v)) return refuse('message is not an object', true);
    const type = v['type'];
    if (typeof type !== 'string' || !Object.hasOwn(variants, type)) {
      return refuse(`unknown message type ${JSON.stringify(type)?.slice(0, 80) ?? 'undefined'}`, true);
    }
    return variants[type]!.read(v) as UnionOf<V> | Invalid;
  });
}
