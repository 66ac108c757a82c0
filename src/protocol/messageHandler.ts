/**
 * The one request/response scheme of every channel (host↔webview, host↔worker), after
 * vscode-hexeditor's MessageHandler: a request carries `messageId`, every answer to it carries
 * `inReplyTo` with that id. Unlike hexeditor's, a request may get several answers (progress, one
 * series per tag) before the one that ends it; the asking side says which answer that is.
 * Plain data, no vscode and no DOM: webviews, the extension host and the worker all use it.
 *
 * `MessageHandler` is the asking side; `serve` is the answering side, which marks every answer
 * `inReplyTo` the request and ends it with the channel's final reply, so no handler writes either.
 */
import { int, withMessage, type Schema } from './schema.ts';

/** What a message may carry to take part in a request: its own id, or the id it answers. */
export interface Correlation {
  messageId?: number;
  inReplyTo?: number;
}

export interface RequestOptions<In> {
  /** Called for every answer, the final one included, in arrival order. */
  onReply?: (reply: In) => void;
  /** Whether this answer ends the request; by default the first answer does (hexeditor's one reply). */
  isFinal?: (reply: In) => boolean;
}

export interface SentRequest<In> {
  messageId: number;
  /** The final answer; rejected by `reject`/`rejectAll` (the other side went away). */
  reply: Promise<In>;
}

interface Pending<In> {
  options: RequestOptions<In>;
  resolve(reply: In): void;
  reject(error: Error): void;
}

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The id a raw (not yet validated) message answers, or undefined. */
export function inReplyToOf(raw: unknown): number | undefined {
  const v = typeof raw === 'object' && raw !== null ? (raw as Correlation).inReplyTo : undefined;
  return isId(v) ? v : undefined;
}

/** The id a raw (not yet validated) request carries, or undefined: lets a host answer even a message it rejects. */
export function messageIdOf(raw: unknown): number | undefined {
  const v = typeof raw === 'object' && raw !== null ? (raw as Correlation).messageId : undefined;
  return isId(v) ? v : undefined;
}

/** A validator's check of the optional correlation fields: null when fine, else the reason. */
export function checkCorrelation(raw: Record<string, unknown>, field: 'messageId' | 'inReplyTo', required: boolean): string | null {
  const v = raw[field];
  if (v === undefined) return required ? `${field} is missing` : null;
  return isId(v) ? null : `${field} must be a non-negative integer`;
}

/** A request's `messageId` field in a message schema. */
export const messageIdField = (): Schema<number> => withMessage(int(0), 'messageId must be a non-negative integer');
/** An answer's `inReplyTo` field in a message schema. */
export const inReplyToField = (): Schema<number> => withMessage(int(0), 'inReplyTo must be a non-negative integer');

/** Marks `message` as an answer to request `messageId` (unchanged when there is no request to answer). */
export function replyTo<M extends object>(messageId: number | undefined, message: M): M & { inReplyTo?: number } {
  return messageId === undefined ? message : { ...message, inReplyTo: messageId };
}

/**
 * The asking side of a channel: numbers requests, routes answers back to whoever asked, and ends a
 * request on its final answer. `Out` is what this side posts, `In` what it receives.
 */
export class MessageHandler<Out extends object, In extends object> {
  private readonly post: (message: Out) => void;
  private readonly pending = new Map<number, Pending<In>>();
  private nextId = 1;

  constructor(post: (message: Out) => void) {
    this.post = post;
  }

  /** Requests not answered finally yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  pendingIds(): number[] {
    return [...this.pending.keys()];
  }

  has(messageId: number): boolean {
    return this.pending.has(messageId);
  }

  /** Posts the message `build` makes with a fresh id; the id is registered before the post, so a synchronous answer finds it. */
  request(build: (messageId: number) => Out, options: RequestOptions<In> = {}): SentRequest<In> {
    const messageId = this.nextId++;
    const reply = new Promise<In>((resolve, reject) => this.pending.set(messageId, { options, resolve, reject }));
    try {
      this.post(build(messageId));
    } catch (error) {
      this.reject(messageId, error instanceof Error ? error : new Error(String(error)));
    }
    return { messageId, reply };
  }

  /** Posts a message that expects no answer. */
  event(message: Out): void {
    this.post(message);
  }

  /**
   * Routes a received message: an answer to a pending request goes to that request (and ends it
   * when final); returns false for anything else (events, answers to requests already ended).
   */
  receive(message: In): boolean {
    const id = inReplyToOf(message);
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (id === undefined || !pending) return false;
    const final = pending.options.isFinal?.(message) ?? true;
    // Ended before onReply runs, so the caller sees pendingCount without this request.
    if (final) this.pending.delete(id);
    pending.options.onReply?.(message);
    if (final) pending.resolve(message);
    return true;
  }

  reject(messageId: number, error: Error): void {
    const pending = this.pending.get(messageId);
    if (!pending) return;
    this.pending.delete(messageId);
    pending.reject(error);
  }

  /** Ends every pending request with `error` (the other side exited or was closed). */
  rejectAll(error: Error): void {
    for (const id of [...this.pending.keys()]) this.reject(id, error);
  }
}

/** An answer as its handler writes it: `serve` adds the `inReplyTo`. */
export type Reply<A> = A extends unknown ? Omit<A, 'inReplyTo'> : never;

export interface ServeOptions<Req, Ans extends object> {
  /** The channel's check of what arrives (the other side is untrusted, or another version). */
  parse(raw: unknown): { ok: true; message: Req } | { ok: false; reason: string };
  /** Posts an answer (its `inReplyTo` added) or a final reply. */
  post(message: Ans): void;
  /** Does what `message` asks; every `answer` it gives is marked as answering the request. */
  handle(message: Req, answer: (reply: Reply<Ans>) => void): void | Promise<void>;
  /** What a refused message is answered with (answered even without a messageId); undefined: nothing. */
  rejected?(reason: string, raw: unknown): Reply<Ans> | undefined;
  /** What a request whose handler threw is answered with; without this option the error propagates. */
  failed?(error: unknown, message: Req): Reply<Ans> | undefined;
  /** The reply that ends every request after its answers, a refusal and a failure included (the inference panel's `done`). */
  final?(inReplyTo: number): Ans;
}

/**
 * The answering side of a channel: returns the function that takes every raw message. It checks the
 * message, runs its handler with an `answer` bound to the request's messageId, answers a refusal or
 * a failure, and sends the final reply last, so the asking side never waits for nothing.
 */
export function serve<Req, Ans extends object>(options: ServeOptions<Req, Ans>): (raw: unknown) => Promise<void> {
  return async (raw) => {
    const parsed = options.parse(raw);
    // A refused request is answered too, by the id it carries, if any.
    const id = messageIdOf(parsed.ok ? parsed.message : raw);
    const answer = (reply: Reply<Ans>): void => {
      // With its inReplyTo back the reply is a whole message of the channel: `Reply` only took that field away.
      const message: object = replyTo(id, reply);
      options.post(message as Ans);
    };
    try {
      if (!parsed.ok) {
        const refusal = options.rejected?.(parsed.reason, raw);
        if (refusal) answer(refusal);
        return;
      }
      await options.handle(parsed.message, answer);
    } catch (error) {
      if (!options.failed || !parsed.ok) throw error;
      const failure = options.failed(error, parsed.message);
      if (failure) answer(failure);
    } finally {
      if (id !== undefined && options.final) options.post(options.final(id));
    }
  };
}
