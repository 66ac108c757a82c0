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
  title: string;
  match: (tag: string) => boolean;
  section: 'main' | 'optimizer';
  options?: Pick<ChartSpec, 'smooth' | 'dualAxis' | 'yFormat'>;
}

const FIXED: FixedChart[] = [
  { id: 'g-total', title: 'Generator total (loss/g/total)', match: (t) => t === 'loss/g/total', section: 'main' },
  { id: 'd-total', title: 'Discriminator total (loss/d/total)', match: (t) => t === 'loss/d/total', section: 'main' },
  { id: 'mel', title: 'Mel (loss/g/mel)', match: (t) => t === 'loss/g/mel', section: 'main' },
  { id: 'kl', title: 'KL (loss/g/kl)', match: (t) => t === 'loss/g/kl', section: 'main' },
  { id: 'fm', title: 'Feature matching (loss/g/fm)', match: (t) => t === 'loss/g/fm', section: 'main' },
  {
    id: 'lr',
    title: 'Learning rate',
    match: (t) => t === 'learning_rate' || /^(lr|learning_rate)(\/|$)/.test(t),
    section: 'optimizer',
    options: { smooth: false, yFormat: 'exp' },
  },
  { id: 'grad', title: 'Gradient norms', match: (t) => /^grad_norm/.test(t), section: 'optimizer', options: { dualAxis: true } },
];

const SUB_DISCRIMINATORS: { id: string; title: string; pattern: RegExp }[] = [
  { id: 'sub-g', title: 'Generator loss per sub-discriminator (loss/g/N)', pattern: /^loss\/g\/\d+$/ },
  { id: 'sub-d-r', title: 'Discriminator loss on real audio (loss/d_r/N)', pattern: /^loss\/d_r\/\d+$/ },
  { id: 'sub-d-g', title: 'Discriminator loss on generated audio (loss/d_g/N)', pattern: /^loss\/d_g\/\d+$/ },
];

const naturalCompare = (a: string, b: string): number => a.localeCompare(b, undefined, { numeric: true });

export function groupTags(tags: Iterable<string>): ChartSection[] {
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
      title: fixed.title,
      tags: matched,
      section: fixed.section,
      ...fixed.options,
    });
  }
  const sections: ChartSection[] = [];
  if (main.length > 0) sections.push({ id: 'main', title: 'Losses', collapsible: false, charts: main });
  if (optimizer.length > 0) sections.push({ id: 'optimizer', title: 'Optimiser', collapsible: false, charts: optimizer });
  for (const sub of SUB_DISCRIMINATORS) {
    const matched = unique.filter((t) => !used.has(t) && sub.pattern.test(t));
    if (matched.length === 0) continue;
    matched.forEach((t) => used.add(t));
    const charts = matched.map((tag) => ({ id: `tag:${tag}`, title: tag, tags: [tag], section: sub.id }));
    sections.push({ id: sub.id, title: sub.title, collapsible: true, charts });
  }
  const other = unique.filter((t) => !used.has(t));
  if (other.length > 0) {
    sections.push({
      id: 'other',
      title: 'Other',
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
