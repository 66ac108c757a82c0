import * as assert from 'node:assert/strict';
import { INFERENCE_STRINGS, parseInferenceStrings } from '../../../src/protocol/inferencePanel.ts';
import { METRICS_STRINGS, parseMetricsStrings } from '../../../src/protocol/metricsPanel.ts';
import { formatString } from '../../../src/protocol/panelStrings.ts';
import { inferenceStrings, metricsStrings } from '../../../src/extension/panels/panelStrings.ts';

describe('panel strings: the host translates what the webviews show', () => {
  it('in English (plain Node) the host sends exactly the protocol defaults', () => {
    assert.deepEqual(inferenceStrings(), INFERENCE_STRINGS);
    assert.deepEqual(metricsStrings(), METRICS_STRINGS);
  });

  it('the webview keeps English where the host sent nothing or something malformed', () => {
    assert.deepEqual(parseInferenceStrings(undefined), INFERENCE_STRINGS);
    const parsed = parseInferenceStrings({ convert: '转换', why: { busy: 3 }, labels: 'x', extra: 'y' });
    assert.equal(parsed.convert, '转换');
    assert.equal(parsed.why.busy, INFERENCE_STRINGS.why.busy);
    assert.deepEqual(parsed.labels, INFERENCE_STRINGS.labels);
    assert.ok(!('extra' in parsed));
    assert.equal(parseMetricsStrings({ xAxisModes: { step: '步' } }).xAxisModes.epoch, 'Epoch');
  });

  it('formatString fills placeholders and leaves ones without an argument', () => {
    assert.equal(formatString(INFERENCE_STRINGS.batchDone, 3, 1), 'Batch done: 3 converted, 1 failed.');
    assert.equal(formatString('{0} and {1}', 'a'), 'a and {1}');
  });
});
