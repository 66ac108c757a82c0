import type { PanelSettings } from '../../src/protocol/metricsPanel.ts';
import { ChartCard } from './chartCard.tsx';
import type { ChartSection } from './chartGroups.ts';
import type { ChartCallbacks, ChartView } from './chartView.ts';

export interface ChartSectionsProps {
  sections: ChartSection[];
  /** What every chart draws, less its spec. */
  view: Omit<ChartView, 'spec'>;
  callbacks: ChartCallbacks;
  patch: (change: Partial<PanelSettings>) => void;
}

/** The chart sections; a collapsible one (27 per-sub-discriminator charts) shows its charts once expanded. */
export function ChartSections({ sections, view, callbacks, patch }: ChartSectionsProps) {
  const expanded = view.settings.expandedGroups;
  const toggle = (id: string, open: boolean) => patch({ expandedGroups: open ? expanded.filter((g) => g !== id) : [...expanded, id] });
  return (
    <>
      {sections.map((section) => {
        const open = !section.collapsible || expanded.includes(section.id);
        return (
          <div key={section.id} class="section" data-section={section.id}>
            {section.collapsible ? (
              <button class="section-toggle" aria-expanded={open} onClick={() => toggle(section.id, open)}>
                {open ? '▾' : '▸'} {section.title} ({section.charts.length})
              </button>
            ) : (
              <h2>{section.title}</h2>
            )}
            {open && (
              <div class="grid">
                {section.charts.map((spec) => (
                  <ChartCard key={spec.id} spec={spec} {...view} {...callbacks} />
                ))}
              </div>
            )}
          </div>
        );
      })}
    </>
  );
}
