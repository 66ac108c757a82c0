import * as assert from 'node:assert/strict';
import { checkCorrelation, inReplyToOf, MessageHandler, messageIdOf, replyTo, serve } from '../../../src/protocol/messageHandler.ts';

type Out = { type: 'ask'; messageId: number; what: string } | { type: 'note' };
type In = { type: 'part'; inReplyTo: number; n: number } | { type: 'end'; inReplyTo: number } | { type: 'news' };

describe('request/response helper (messageId / inReplyTo)', () => {
  it('numbers requests, routes every answer to its request and ends it on the final one', async () => {
    const posted: Out[] = [];
    const channel = new MessageHandler<Out, In>((m) => posted.push(m));
    const parts: number[][] = [[], []];
    const a = channel.request((messageId) => ({ type: 'ask', messageId, what: 'a' }), {
      isFinal: (r) => r.type === 'end',
      onReply: (r) => r.type === 'part' && parts[0]!.push(r.n),
    });
    const b = channel.request((messageId) => ({ type: 'ask', messageId, what: 'b' }), {
      isFinal: (r) => r.type === 'end',
      onReply: (r) => r.type === 'part' && parts[1]!.push(r.n),
    });
    assert.deepEqual(posted, [
      { type: 'ask', messageId: a.messageId, what: 'a' },
      { type: 'ask', messageId: b.messageId, what: 'b' },
    ]);
    assert.notEqual(a.messageId, b.messageId);
    assert.equal(channel.pendingCount, 2);
    // Interleaved answers each reach their own request.
    assert.equal(channel.receive({ type: 'part', inReplyTo: b.messageId, n: 1 }), true);
    assert.equal(channel.receive({ type: 'part', inReplyTo: a.messageId, n: 2 }), true);
    assert.equal(channel.receive({ type: 'news' }), false, 'an event is not an answer');
    assert.equal(channel.receive({ type: 'end', inReplyTo: a.messageId }), true);
    assert.deepEqual(await a.reply, { type: 'end', inReplyTo: a.messageId });
    assert.deepEqual(parts, [[2], [1]]);
    assert.deepEqual(channel.pendingIds(), [b.messageId]);
    assert.equal(channel.receive({ type: 'part', inReplyTo: a.messageId, n: 3 }), false, 'a request that ended takes no more answers');
    assert.deepEqual(parts, [[2], [1]]);
  });

  it('by default the first answer ends a request (hexeditor), and onReply sees the count without it', async () => {
    const channel = new MessageHandler<Out, In>(() => undefined);
    let seen = -1;
    const sent = channel.request((messageId) => ({ type: 'ask', messageId, what: 'x' }), { onReply: () => (seen = channel.pendingCount) });
    channel.receive({ type: 'part', inReplyTo: sent.messageId, n: 7 });
    assert.deepEqual(await sent.reply, { type: 'part', inReplyTo: sent.messageId, n: 7 });
    assert.equal(seen, 0);
  });

  it('rejects what is pending when the other side goes away, and when posting throws', async () => {
    let fail = false;
    const channel = new MessageHandler<Out, In>(() => {
      if (fail) throw new Error('worker gone');
    });
    const a = channel.request((messageId) => ({ type: 'ask', messageId, what: 'a' }));
    channel.rejectAll(new Error('exited with code 1'));
    await assert.rejects(a.reply, /exited with code 1/);
    fail = true;
    const b = channel.request((messageId) => ({ type: 'ask', messageId, what: 'b' }));
    await assert.rejects(b.reply, /worker gone/);
    assert.equal(channel.pendingCount, 0);
  });

  it('answers name their request; raw ids are read defensively', () => {
    assert.deepEqual(replyTo(4, { type: 'x' }), { type: 'x', inReplyTo: 4 });
    assert.deepEqual(replyTo(undefined, { type: 'x' }), { type: 'x' });
    assert.equal(messageIdOf({ messageId: 3 }), 3);
    for (const bad of [null, 'x', { messageId: -1 }, { messageId: 1.5 }, { messageId: '2' }, { messageId: Number.MAX_SAFE_INTEGER + 2 }])
      assert.equal(messageIdOf(bad), undefined, JSON.stringify(bad));
    assert.equal(inReplyToOf({ inReplyTo: 0 }), 0);
    assert.equal(inReplyToOf({ inReplyTo: NaN }), undefined);
    assert.equal(checkCorrelation({}, 'messageId', true), 'messageId is missing');
    assert.equal(checkCorrelation({}, 'inReplyTo', false), null);
    assert.equal(checkCorrelation({ messageId: 'one' }, 'messageId', false), 'messageId must be a non-negative integer');
  });
});

describe('serve: the answering side', () => {
  type Req = { type: 'ask'; messageId: number; what: string } | { type: 'note' };
  type Ans =
    | { type: 'part'; n: number; inReplyTo?: number }
    | { type: 'error'; text: string; inReplyTo?: number }
    | { type: 'end'; inReplyTo: number };
  const parse = (raw: unknown) => {
    const m = raw as Req;
    return m && (m.type === 'note' || (m.type === 'ask' && typeof m.what === 'string'))
      ? { ok: true as const, message: m }
      : { ok: false as const, reason: 'bad' };
  };
  const served = (handle: (m: Req, answer: (a: { type: 'part'; n: number }) => void) => void | Promise<void>) => {
    const posted: Ans[] = [];
    const receive = serve<Req, Ans>({
      parse,
      post: (m) => posted.push(m),
      handle,
      rejected: (reason) => ({ type: 'error', text: reason }),
      failed: (error) => ({ type: 'error', text: (error as Error).message }),
      final: (inReplyTo) => ({ type: 'end', inReplyTo }),
    });
    return { posted, receive };
  };

  it('marks every answer inReplyTo the request and ends it with the final reply; an event gets none', async () => {
    const { posted, receive } = served(async (m, answer) => {
      if (m.type !== 'ask') return;
      answer({ type: 'part', n: 1 });
      await Promise.resolve();
      answer({ type: 'part', n: 2 });
    });
    await receive({ type: 'ask', messageId: 7, what: 'x' });
    await receive({ type: 'note' });
    assert.deepEqual(posted, [
      { type: 'part', n: 1, inReplyTo: 7 },
      { type: 'part', n: 2, inReplyTo: 7 },
      { type: 'end', inReplyTo: 7 },
    ]);
  });

  it('answers a refused message by the id it carries, and a failed one, and still ends both', async () => {
    const { posted, receive } = served(() => {
      throw new Error('boom');
    });
    await receive({ type: 'ask', messageId: 3 });
    await receive({ type: 'ask', messageId: 4, what: 'x' });
    await receive('junk');
    assert.deepEqual(posted, [
      { type: 'error', text: 'bad', inReplyTo: 3 },
      { type: 'end', inReplyTo: 3 },
      { type: 'error', text: 'boom', inReplyTo: 4 },
      { type: 'end', inReplyTo: 4 },
      { type: 'error', text: 'bad' },
    ]);
  });
});
