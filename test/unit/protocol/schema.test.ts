import * as assert from 'node:assert/strict';
import {
  arrayOf,
  check,
  fallback,
  filteredArrayOf,
  int,
  literal,
  mustBe,
  nullable,
  object,
  optional,
  path,
  record,
  str,
  union,
  withMessage,
  type Infer,
} from '../../../src/protocol/schema.ts';

const ASK = object({ type: literal('ask'), messageId: int(0), what: str({ max: 5 }), note: optional(str()) });
const MESSAGE = union({ ask: ASK, ping: object({ type: literal('ping') }) });

describe('message schemas: one declaration gives the type and the check', () => {
  it('returns a copy with only the declared fields, optional ones left out when absent', () => {
    const message: Infer<typeof MESSAGE> = { type: 'ask', messageId: 1, what: 'a' };
    assert.deepEqual(check(MESSAGE, message), { ok: true, value: message });
    assert.deepEqual(check(MESSAGE, { type: 'ping' }), { ok: true, value: { type: 'ping' } });
  });

  it('refuses unknown types, unknown fields, wrong shapes and oversized values, naming the field', () => {
    assert.deepEqual(check(MESSAGE, null), { ok: false, reason: 'message is not an object' });
    assert.deepEqual(check(MESSAGE, { type: 'nope' }), { ok: false, reason: 'unknown message type "nope"' });
    assert.deepEqual(check(MESSAGE, { type: 'x'.repeat(500) }).ok, false);
    assert.ok((check(MESSAGE, { type: 'x'.repeat(500) }) as { reason: string }).reason.length < 120, 'a huge type is not echoed whole');
    assert.deepEqual(check(MESSAGE, { type: 'ping', extra: 1 }), { ok: false, reason: 'unexpected field(s) extra' });
    assert.deepEqual(check(MESSAGE, { type: 'ask', messageId: -1, what: 'a' }), { ok: false, reason: 'messageId must be an integer' });
    assert.deepEqual(check(MESSAGE, { type: 'ask', messageId: 1, what: 'toolong' }), { ok: false, reason: 'what must be a string' });
    assert.deepEqual(check(MESSAGE, { type: 'ask', messageId: 1, what: 'a', note: 3 }), { ok: false, reason: 'note must be a string' });
  });

  it('words reasons as the protocol does: whole sentences, or what a field must be', () => {
    const s = object({ folder: mustBe(path(), 'a path'), tags: withMessage(arrayOf(str(), { max: 2 }), 'at most two tags') });
    assert.deepEqual(check(s, { folder: 'a\0b', tags: [] }), { ok: false, reason: 'folder must be a path' });
    assert.deepEqual(check(s, { folder: 'a', tags: ['a', 'b', 'c'] }), { ok: false, reason: 'at most two tags' });
    assert.deepEqual(check(object({}, { notObject: 'params is not an object' }), []), { ok: false, reason: 'params is not an object' });
  });

  it("reads the host's messages leniently where asked: bad entries dropped, defaults for bad fields", () => {
    const s = object(
      { list: filteredArrayOf(int()), level: fallback(literal('error'), () => 'info' as const), x: nullable(int()) },
      { loose: true },
    );
    assert.deepEqual(check(s, { list: [1, 'a', 2], level: 'loud', x: null, more: true }), {
      ok: true,
      value: { list: [1, 2], level: 'info', x: null },
    });
  });

  it('never throws, and a "__proto__" key stays a plain key', () => {
    const raw: unknown = JSON.parse('{"__proto__": 1, "a": 2}');
    const read = check(record(int()), raw);
    assert.ok(read.ok && Object.hasOwn(read.value, '__proto__'));
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    for (const v of [undefined, 0, '', [], () => 1, Symbol('s')]) assert.equal(check(MESSAGE, v).ok, false);
  });
});
