import * as assert from 'node:assert/strict';
import {
  checkCountField,
  defaultBatchSize,
  defaultPretrained,
  gpuChoices,
  checkGpuField,
  checkNameField,
} from '../../../src/extension/trainingForm.ts';

describe('Create Training form checks', () => {
  const none = (): boolean => false;

  it("accepts a plain name and refuses unsafe ones with the core's reason", () => {
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

  it('offers the GPU that rvcStudio.runner.device and the detected cards say', () => {
    assert.deepEqual(gpuChoices('cpu', [{ index: 0, name: 'A', memGb: 8 }], '0'), {
      items: [{ label: 'cpu', value: 'cpu', description: 'rvcStudio.runner.device is "cpu"' }],
      active: 'cpu',
    });
    assert.equal(gpuChoices('mps', undefined, '0').active, 'cpu');
    assert.equal(gpuChoices('auto', [], '0').active, 'cpu', 'no CUDA card seen: cpu first');
    const two = gpuChoices(
      'auto',
      [
        { index: 0, name: 'A', memGb: 8 },
        { index: 1, name: 'B', memGb: 24 },
      ],
      '1',
    );
    assert.deepEqual(
      two.items.map((i) => i.value),
      ['0-1', '0', '1', 'cpu'],
    );
    assert.equal(two.active, '1', 'rvcStudio.runner.gpus wins when it names a detected card');
    assert.equal(
      gpuChoices(
        'auto',
        [
          { index: 0, name: 'A', memGb: 8 },
          { index: 1, name: 'B', memGb: 24 },
        ],
        '3',
      ).active,
      '0-1',
      "else all cards, RVC's WebUI default",
    );
    assert.equal(gpuChoices('cuda', undefined, '0-1').active, '0-1', 'not detected: the setting');
  });

  it("offers RVC's defaults for batch size and pretrained models", () => {
    assert.equal(defaultBatchSize([{ memGb: 8 }, { memGb: 24 }], 4), 4, 'half the smallest card');
    assert.equal(defaultBatchSize([{ memGb: 139 }], 4), 40, 'capped at the WebUI slider');
    assert.equal(defaultBatchSize(undefined, 6), 6);
    assert.deepEqual(defaultPretrained('v2', true, 40000), { g: 'assets/pretrained_v2/f0G40k.pth', d: 'assets/pretrained_v2/f0D40k.pth' });
    assert.deepEqual(defaultPretrained('v1', false, 32000), { g: 'assets/pretrained/G32k.pth', d: 'assets/pretrained/D32k.pth' });
    assert.equal(checkCountField('20'), undefined);
    assert.equal(checkCountField('0')?.severity, 'error');
    assert.equal(checkCountField('2.5')?.severity, 'error');
  });
});
