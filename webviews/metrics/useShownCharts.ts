import { useEffect, useMemo, useRef } from 'preact/hooks';
import type { MetricsStrings, PanelSettings } from '../../src/protocol/metricsPanel.ts';
import { compileTagFilter, filterSections, groupTags, type ChartSpec } from './chartGroups.ts';

/**
 * The chart sections the tag filter leaves, and the charts on screen (collapsed sections' are not);
 * loads the series of what comes on screen that is not loaded yet.
 */
export function useShownCharts(
  tags: { trainingId: string; tag: string }[],
  strings: MetricsStrings,
  settings: PanelSettings,
  request: (tags: string[]) => void,
) {
  const loaded = useRef(new Set<string>());
  const sections = useMemo(
    () =>
      groupTags(
        tags.map((t) => t.tag),
        strings.charts,
      ),
    [tags, strings],
  );
  const filter = useMemo(() => compileTagFilter(settings.tagFilter), [settings.tagFilter]);
  const visibleSections = useMemo(() => filterSections(sections, filter.test), [sections, filter]);
  const shownCharts = (): ChartSpec[] =>
    visibleSections.flatMap((s) => (!s.collapsible || settings.expandedGroups.includes(s.id) ? s.charts : []));

  // Load what is on screen and not loaded yet (first show, filter change, a group expanded).
  useEffect(() => {
    const missing = [...new Set(shownCharts().flatMap((c) => c.tags))].filter((t) => !loaded.current.has(t));
    missing.forEach((t) => loaded.current.add(t));
    request(missing);
  }, [visibleSections, settings.expandedGroups]);

  return { visibleSections, filterError: filter.error, shownCharts };
}
