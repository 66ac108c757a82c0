import * as assert from 'node:assert/strict';
import { runCli } from '../../../src/cli/cli.ts';
import { formatMessage, msg, UserError } from '../../../src/core/util/errors.ts';
import { localizedError, useTranslator } from '../../../src/extension/l10n.ts';
import { checkNameField } from '../../../src/extension/trainingForm.ts';
import { formatString } from '../../../src/protocol/panelStrings.ts';

/** A stand-in for vscode.l10n.t with a one-entry Japanese bundle. */
const JA: Record<string, string> = {
  'No training named {0} in {1}.': '{1} に {0} という名前の学習はありません。',
  'The training name is empty.': '学習名が空です。',
};
function fakeL10n(message: string, ...args: (string | number | boolean)[]): string {
  return formatString(JA[message] ?? message, ...args);
}

describe('UserError message ids, localised in the extension, English in the CLI', () => {
  afterEach(() => useTranslator(formatString));

  it('msg`…` gives the English with {0} placeholders as its id and the values as strings', () => {
    const name = 'alice';
    const text = msg`No training named ${name} in ${42}.`;
    assert.deepEqual(text, { id: 'No training named {0} in {1}.', args: ['alice', '42'] });
    assert.equal(formatMessage(text), 'No training named alice in 42.');
  });

  it('a UserError made with the tag keeps its English message, its id, args, code and cause', () => {
    const cause = new Error('ENOENT');
    const error = new UserError(msg`No training named ${'alice'} in ${'/ws'}.`, 'no-training', { cause });
    assert.equal(error.message, 'No training named alice in /ws.');
    assert.equal(error.id, 'No training named {0} in {1}.');
    assert.deepEqual(error.args, ['alice', '/ws']);
    assert.equal(error.code, 'no-training');
    assert.equal(error.cause, cause);
  });

  it('a plain-string UserError is its own id, with no values, and keeps the default code', () => {
    const error = new UserError('The training name is empty.');
    assert.equal(error.message, 'The training name is empty.');
    assert.equal(error.id, 'The training name is empty.');
    assert.deepEqual(error.args, []);
    assert.equal(error.code, 'user-error');
  });

  it('localizedError translates a UserError through l10n.t and leaves other errors as they are', () => {
    useTranslator(fakeL10n);
    const error = new UserError(msg`No training named ${'alice'} in ${'/ws'}.`, 'no-training');
    assert.equal(localizedError(error), '/ws に alice という名前の学習はありません。');
    assert.equal(error.message, 'No training named alice in /ws.', 'the log keeps the English');
    assert.equal(localizedError(new UserError(msg`Nothing to translate ${1}.`)), 'Nothing to translate 1.');
    assert.equal(localizedError(new Error('a bug')), 'a bug');
    assert.equal(localizedError('thrown string'), 'thrown string');
  });

  it("the Create Training form shows core's name check in the user's language", () => {
    useTranslator(fakeL10n);
    assert.deepEqual(
      checkNameField('', () => false),
      { message: '学習名が空です。', severity: 'error' },
    );
  });

  it('the CLI prints the English sentence whatever translator the extension installed', async () => {
    useTranslator(() => 'translated');
    let stderr = '';
    const code = await runCli(['frobnicate'], { stdout: () => undefined, stderr: (text) => (stderr += text) });
    assert.equal(code, 1);
    assert.equal(stderr, 'Unknown command "frobnicate". Run "rvc-studio --help" for the list.\n');
  });
});
