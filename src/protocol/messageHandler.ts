/**
 * The one request/response scheme of every channel (host↔webview, host↔worker), after
 * vscode-hexeditor's MessageHandler: a request carries `messageId`, every answer to it carries
 * `inReplyTo` with that id. Unlike hexeditor's, a request may get several answers (progress, one
 * series per tag) before the one that ends it; the asking side says which answer that is.
 * Plain data, no vscode and no DOM: webviews, the extension host and the worker all use it.
 */

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
