import * as assert from 'node:assert/strict';
import { checkTrainingName } from '../../../src/core/util/names.ts';

describe('training names', () => {
  const refused: [string, RegExp][] = [
    ['', /empty/],
    ['   ', /empty/],
    ['a'.repeat(65), /longer than 64/],
    ['alto/demo', /path separator/],
    ['alto\\demo', /path separator/],
    ['..', /\.\./],
    ['a..b', /\.\./],
    ['.hidden', /start with a dot/],
    ['alto.', /end with a dot or a space/],
    ['alto ', /end with a dot or a space/],
    ['al\u0000to', /control characters/],
    ['al\nto', /control characters/],
    ['al\u007fto', /control characters/],
    ['CON', /reserved device name/],
    ['nul', /reserved device name/],
    ['COM1', /reserved device name/],
    ['lpt9.txt', /reserved device name/],
    ['a:b', /Windows forbids/],
    ['what?', /Windows forbids/],
  ];
  for (const [name, reason] of refused) {
    it(`refuses ${JSON.stringify(name.length > 20 ? name.slice(0, 20) + '…' : name)}`, () => {
      const check = checkTrainingName(name);
      assert.ok(check.error, `expected ${JSON.stringify(name)} to be refused`);
      assert.match(check.error, reason);
    });
  }

  for (const name of ['alto-demo', 'alto demo', 'a'.repeat(64), 'v2_40k.final', 'console', 'COM10x']) {
    it(`accepts ${JSON.stringify(name.length > 20 ? name.slice(0, 20) + '…' : name)} without warnings`, () => {
      assert.deepEqual(checkTrainingName(name), { warnings: [] });
    });
  }

  it('accepts non-ASCII letters with a warning about RVC issue #2331', () => {
    const check = checkTrainingName('歌手-ümlaut');
    assert.equal(check.error, undefined);
    assert.equal(check.warnings.length, 1);
    assert.match(check.warnings[0]!, /#2331/);
  });
});
