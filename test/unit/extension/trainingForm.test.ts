import * as assert from 'node:assert/strict';
import { checkGpuField, checkNameField } from '../../../src/extension/trainingForm.ts';

describe('Create Training form checks', () => {
  const none = (): boolean => false;

  it('accepts a plain name and refuses unsafe ones with the core\'s reason', () => {
    assert.equal(checkNameField('alto-demo', none), undefined);
    assert.equal(checkNameField('', none)?.severity, 'error');
    assert.match(checkNameField('../escape', none)!.message, /path separator|\.\./);
    assert.match(checkNameField('con', none)!.message, /reserved/);
    assert.match(checkNameField('voice.', none)!.message, /end with a dot/);
  });

  it('refuses a name already taken in the workspace', () => {
    const check = checkNameField('alto-demo', (name) => name === 'alto-demo');
    assert.equal(check?.severity, 'error');
    assert.match(check!.message, /already exists/);
  });

  it('warns, without refusing, about names the core only warns about', () => {
    const check = checkNameField('stimme-ä', none);
    assert.ok(check === undefined || check.severity === 'warning');
  });

  it('takes GPU lists and cpu, refuses anything else', () => {
    for (const ok of ['0', '0-1', '1-2-3', 'cpu', '']) assert.equal(checkGpuField(ok), undefined, ok);
    for (const bad of ['0,1', 'gpu0', '-1', '0-']) assert.equal(checkGpuField(bad)?.severity, 'error', bad);
  });
});
