import { METRICS_STRINGS, type MetricsStrings } from '../../src/protocol/metricsPanel.ts';

/** The titles groupTags gives charts and sections, in the user's language (the host's strings). */
export type ChartTitles = MetricsStrings['charts'];

/**
 * Which tags share a chart, in the order RVC users read them: the totals first, then the loss
 * terms, the optimiser, and the per-sub-discriminator losses (loss/g/0..8, loss/d_r/*, loss/d_g/*)
 * folded into sections that start collapsed because there are 27 of them.
 */
export interface ChartSpec {
  id: string;
  title: string;
  tags: string[];
  section: string;
  /** false: drawn raw whatever the smoothing (a schedule such as the learning rate is not noisy). */
  smooth?: boolean;
  /** The first tag on the left axis, the others on the right: tags of different magnitude (grad_norm_g vs grad_norm_d). */
  dualAxis?: boolean;
  /** Tick format of the y axis: 'exp' for values like 1e-4. */
  yFormat?: 'exp';
}

export interface ChartSection {
  id: string;
  title: string;
  collapsible: boolean;
  charts: ChartSpec[];
}

interface FixedChart {
  id: string;
  titleKey: keyof ChartTitles;
  match: (tag: string) => boolean;
  section: 'main' | 'optimizer';
  options?: Pick<ChartSpec, 'smooth' | 'dualAxis' | 'yFormat'>;
}

const FIXED: FixedChart[] = [
  { id: 'g-total', titleKey: 'generatorTotal', match: (t) => t === 'loss/g/total', section: 'main' },
  { id: 'd-total', titleKey: 'discriminatorTotal', match: (t) => t === 'loss/d/total', section: 'main' },
  { id: 'mel', titleKey: 'mel', match: (t) => t === 'loss/g/mel', section: 'main' },
  { id: 'kl', titleKey: 'kl', match: (t) => t === 'loss/g/kl', section: 'main' },
  { id: 'fm', titleKey: 'featureMatching', match: (t) => t === 'loss/g/fm', section: 'main' },
  {
    id: 'lr',
    titleKey: 'learningRate',
    match: (t) => t === 'learning_rate' || /^(lr|learning_rate)(\/|$)/.test(t),
    section: 'optimizer',
    options: { smooth: false, yFormat: 'exp' },
  },
  { id: 'grad', titleKey: 'gradientNorms', match: (t) => /^grad_norm/.test(t), section: 'optimizer', options: { dualAxis: true } },
];

const SUB_DISCRIMINATORS: { id: string; titleKey: keyof ChartTitles; pattern: RegExp }[] = [
  { id: 'sub-g', titleKey: 'perSubGenerator', pattern: /^loss\/g\/\d+$/ },
  { id: 'sub-d-r', titleKey: 'perSubReal', pattern: /^loss\/d_r\/\d+$/ },
  { id: 'sub-d-g', titleKey: 'perSubGenerated', pattern: /^loss\/d_g\/\d+$/ },
];

const naturalCompare = (a: string, b: string): number => a.localeCompare(b, undefined, { numeric: true });

export function groupTags(tags: Iterable<string>, titles: ChartTitles = METRICS_STRINGS.charts): ChartSection[] {
  const unique = [...new Set(tags)].sort(naturalCompare);
  const main: ChartSpec[] = [];
  const optimizer: ChartSpec[] = [];
  const used = new Set<string>();
  for (const fixed of FIXED) {
    const matched = unique.filter((t) => !used.has(t) && fixed.match(t));
    if (matched.length === 0) continue;
    matched.forEach((t) => used.add(t));
    (fixed.section === 'main' ? main : optimizer).push({
      id: fixed.id,
      title: titles[fixed.titleKey],
      tags: matched,
      section: fixed.section,
      ...fixed.options,
    });
  }
  const sections: ChartSection[] = [];
  if (main.length > 0) sections.push({ id: 'main', title: titles.losses, collapsible: false, charts: main });
  if (optimizer.length > 0) sections.push({ id: 'optimizer', title: titles.optimizer, collapsible: false, charts: optimizer });
  for (const sub of SUB_DISCRIMINATORS) {
    const matched = unique.filter((t) => !used.has(t) && sub.pattern.test(t));
    if (matched.length === 0) continue;
    matched.forEach((t) => used.add(t));
    const charts = matched.map((tag) => ({ id: `tag:${tag}`, title: tag, tags: [tag], section: sub.id }));
    sections.push({ id: sub.id, title: titles[sub.titleKey], collapsible: true, charts });
  }
  const other = unique.filter((t) => !used.has(t));
  if (other.length > 0) {
    sections.push({
      id: 'other',
      title: titles.other,
      collapsible: false,
      charts: other.map((tag) => ({ id: `tag:${tag}`, title: tag, tags: [tag], section: 'other' })),
    });
  }
  return sections;
}

/** A user's regex, or an error to show beside the field; an invalid pattern filters nothing. */
export function compileTagFilter(source: string): { test: (tag: string) => boolean; error: string | null } {
  if (source.trim() === '') return { test: () => true, error: null };
  try {
    const re = new RegExp(source, 'i');
    return { test: (tag) => re.test(tag), error: null };
  } catch (error) {
    return { test: () => true, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Applies the tag filter to the sections; charts and sections left without tags disappear. */
export function filterSections(sections: ChartSection[], test: (tag: string) => boolean): ChartSection[] {
  const out: ChartSection[] = [];
  for (const section of sections) {
    const charts = section.charts.map((chart) => ({ ...chart, tags: chart.tags.filter(test) })).filter((chart) => chart.tags.length > 0);
    if (charts.length > 0) out.push({ ...section, charts });
  }
  return out;
}
