// The webview's pure parts in plain Node: TensorBoard smoothing, grouping, live appends, CSV.
import * as assert from 'node:assert/strict';
import { parseToWebview, toWire } from '../../../src/protocol/metricsPanel.ts';
import { compileTagFilter, filterSections, groupTags } from '../../../webviews/metrics/chartGroups.ts';
import { METRICS_STRINGS } from '../../../src/protocol/metricsPanel.ts';
import { seriesToCsv } from '../../../webviews/metrics/csvExport.ts';
import { SeriesStore } from '../../../webviews/metrics/seriesStore.ts';
import { EmaSmoother, smoothSeries } from '../../../webviews/metrics/smoothing.ts';
import { epochLayout, formatTick, xOf } from '../../../webviews/metrics/xAxis.ts';

const T = '11111111-1111-4111-8111-111111111111';

describe('metrics panel logic', () => {
  it("smooths like TensorBoard's classicSmoothing: debiased EMA, non-finite points pass through", () => {
    const w = 0.6;
    const ys = [10, 4, NaN, 7, Infinity, 1];
    // By hand: last = last·w + (1−w)·y; smoothed = last / (1 − wⁿ), n counting finite points only.
    let last = 0;
    let n = 0;
    const expected = ys.map((y) => {
      if (!Number.isFinite(y)) return y;
      last = last * w + (1 - w) * y;
      n++;
      return last / (1 - w ** n);
    });
    assert.deepEqual(smoothSeries(ys, w), expected);
    assert.equal(smoothSeries([10, 4], w)[0], 10, 'debiased: the first point is itself');
    assert.deepEqual(smoothSeries([3, 3, NaN, 3], 0.9), [3, 3, NaN, 3], 'a constant series is left as is');
    assert.deepEqual(smoothSeries([1, 5, 2], 0), [1, 5, 2], 'weight 0 is no smoothing');
    const s = new EmaSmoother(1);
    assert.equal(s.next(4), 0, 'weight 1 never moves (no debias division by zero)');
  });

  it('smooths live appends exactly as a full recompute would', () => {
    const store = new SeriesStore(0.6);
    store.replace([{ trainingId: T, tag: 'a', steps: [0, 1], values: [2, 2], epochs: [1, 1], wallTimesMs: [null, null], totalPoints: 2 }]);
    store.append({ type: 'append', trainingId: T, points: [{ tag: 'a', step: 2, value: 2, epoch: 1, wallTimeMs: null }] });
    assert.deepEqual(store.get(T, 'a')!.smoothed, [2, 2, 2]);
    // The series stops being constant: everything is smoothed now, as TensorBoard would.
    store.append({
      type: 'append',
      trainingId: T,
      points: [3, 4, 5].map((step) => ({ tag: 'a', step, value: toWire(step === 4 ? NaN : step * 3), epoch: 2, wallTimeMs: null })),
    });
    const series = store.get(T, 'a')!;
    assert.deepEqual(series.smoothed, smoothSeries(series.values, 0.6));
    store.append({ type: 'append', trainingId: T, points: [{ tag: 'a', step: 5, value: 99, epoch: 2, wallTimeMs: null }] });
    assert.equal(series.steps.length, 6, 'a step already held is not appended again');
    store.setSmoothing(0.9);
    assert.deepEqual(series.smoothed, smoothSeries(series.values, 0.9));
  });

  it('groups RVC tags into the charts users read, sub-discriminators collapsed', () => {
    const tags = [
      'loss/d_g/1',
      'loss/g/10',
      'loss/g/2',
      'grad_norm_g',
      'learning_rate',
      'loss/g/total',
      'loss/g/mel',
      'grad_norm_d',
      'loss/d/total',
      'loss/g/kl',
      'loss/g/fm',
      'loss/d_r/0',
      'custom/metric',
    ];
    const sections = groupTags(tags);
    assert.deepEqual(
      sections.map((s) => [s.id, s.collapsible, s.charts.map((c) => c.tags.join('+'))]),
      [
        ['main', false, ['loss/g/total', 'loss/d/total', 'loss/g/mel', 'loss/g/kl', 'loss/g/fm']],
        ['optimizer', false, ['learning_rate', 'grad_norm_d+grad_norm_g']],
        ['sub-g', true, ['loss/g/2', 'loss/g/10']],
        ['sub-d-r', true, ['loss/d_r/0']],
        ['sub-d-g', true, ['loss/d_g/1']],
        ['other', false, ['custom/metric']],
      ],
    );
    const filter = compileTagFilter('^loss/g/(mel|\\d+)$');
    assert.deepEqual(
      filterSections(sections, filter.test).flatMap((s) => s.charts.map((c) => c.id)),
      ['mel', 'tag:loss/g/2', 'tag:loss/g/10'],
    );
    const broken = compileTagFilter('loss/(g');
    assert.ok(broken.error);
    assert.equal(filterSections(sections, broken.test).length, sections.length, 'an invalid pattern hides nothing');

    // Titles come from the host's strings (the user's language); a tag's own chart keeps the tag as its title.
    const titles = Object.fromEntries(Object.keys(METRICS_STRINGS.charts).map((key) => [key, `«${key}»`])) as typeof METRICS_STRINGS.charts;
    const translated = groupTags(tags, titles);
    assert.deepEqual(
      translated.map((s) => s.title),
      ['«losses»', '«optimizer»', '«perSubGenerator»', '«perSubReal»', '«perSubGenerated»', '«other»'],
    );
    assert.deepEqual(
      translated[0]!.charts.map((c) => c.title),
      ['«generatorTotal»', '«discriminatorTotal»', '«mel»', '«kl»', '«featureMatching»'],
    );
    assert.equal(translated[2]!.charts[0]!.title, 'loss/g/2');
  });

  it('exports raw values with names quoted and non-finite values spelled out', () => {
    const store = new SeriesStore(0.6);
    store.replace([
      {
        trainingId: T,
        tag: 'loss,"odd"',
        steps: [0, 10],
        values: ['NaN', -2.5],
        epochs: [1, null],
        wallTimesMs: [1000, null],
        totalPoints: 2,
      },
    ]);
    assert.equal(
      seriesToCsv(store.all(), () => 'alto, v2'),
      'training,tag,step,epoch,wall_time_ms,value\n"alto, v2","loss,""odd""",0,1,1000,NaN\n"alto, v2","loss,""odd""",10,,,-2.5\n',
    );
  });

  it('drops what it cannot use from host messages instead of failing', () => {
    assert.equal(parseToWebview({ type: 'series', series: 3 }), null);
    assert.equal(parseToWebview({ type: 'init', kind: 'training', runs: [{ trainingId: 1 }], settings: {} }), null);
    const init = parseToWebview({ type: 'init', kind: 'compare', runs: [], settings: { smoothing: 5 } });
    assert.equal(init?.type === 'init' && init.settings.smoothing, 0.6, 'bad settings fall back to the defaults');
    const series = parseToWebview({
      type: 'series',
      inReplyTo: 1,
      series: [
        { trainingId: T, tag: 'a', steps: [1], values: ['oops'] },
        { trainingId: T, tag: 'b', steps: [1, 2], values: [1, 'Infinity'] },
      ],
    });
    assert.deepEqual(series?.type === 'series' && series.series.map((s) => [s.tag, s.epochs]), [['b', [null, null]]]);
  });
  it('spreads points through their epoch, so the epoch axis has no cliffs and the running epoch keeps its places', () => {
    const store = new SeriesStore(0.6);
    store.replace([
      {
        trainingId: T,
        tag: 'a',
        steps: [1, 2, 3, 4, 5, 6, 7],
        values: [1, 2, 3, 4, 5, 6, 7],
        epochs: [1, 1, 1, 1, 2, 2, 3],
        wallTimesMs: [null, null, null, null, null, null, null],
        totalPoints: 7,
      },
    ]);
    const s = store.get(T, 'a')!;
    assert.deepEqual([...epochLayout(s)], [0.25, 0.5, 0.75, 1, 1.5, 2, 2.25]);
    // Epoch 3 is still running: laid out as long as a finished epoch (the median, 2 and 4 → 4), not stretched to 3.
    store.append({ type: 'append', trainingId: T, points: [{ tag: 'a', step: 8, value: 8, epoch: 3, wallTimeMs: null }] });
    assert.equal(xOf(s, 6, 'epoch'), 2.25);
    assert.equal(xOf(s, 7, 'epoch'), 2.5);
    const xs = [...epochLayout(s)];
    assert.ok(
      xs.every((x, i) => i === 0 || x > xs[i - 1]!),
      'strictly increasing',
    );
  });

  it('formats ticks: exponents for learning rates, four significant digits otherwise', () => {
    assert.equal(formatTick(0.0001, 'exp'), '1.0e-4');
    assert.equal(formatTick(0.00005), '5.0e-5');
    assert.equal(formatTick(12.345678), '12.35');
    assert.equal(formatTick(0), '0');
    assert.equal(formatTick(250000), '2.5e5');
  });
});
