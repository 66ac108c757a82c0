import { X_AXIS_MODES, type MetricsStrings, type PanelKind, type PanelSettings, type XAxisMode } from '../../src/protocol/metricsPanel.ts';

export interface ToolbarProps {
  kind: PanelKind;
  settings: PanelSettings;
  strings: MetricsStrings;
  /** The tag filter's regex error, shown on the field. */
  filterError: string | null;
  patch: (change: Partial<PanelSettings>) => void;
  onExportCsv: () => void;
}

const inputOf = (e: Event) => e.target as HTMLInputElement;

/** The panel's controls: tag filter, smoothing, x axis, log scale, raw values, CSV export. */
export function Toolbar({ kind, settings, strings, filterError, patch, onExportCsv }: ToolbarProps) {
  return (
    <div class="toolbar" role="toolbar">
      <vscode-textfield
        class="filter"
        placeholder={strings.filterPlaceholder}
        value={settings.tagFilter}
        invalid={filterError !== null}
        title={filterError ?? strings.filterTitle}
        onInput={(e: Event) => patch({ tagFilter: inputOf(e).value })}
      />
      <label class="smoothing">
        {strings.smoothing}
        <input
          type="range"
          min="0"
          max="0.99"
          step="0.01"
          value={settings.smoothing}
          aria-label={strings.smoothing}
          onInput={(e) => patch({ smoothing: Number(inputOf(e).value) })}
        />
        <output>{settings.smoothing.toFixed(2)}</output>
      </label>
      <label class="x-axis">
        {kind === 'compare' ? strings.alignBy : strings.xAxis}
        <vscode-single-select
          value={settings.xAxis}
          aria-label={strings.xAxis}
          onChange={(e: Event) => patch({ xAxis: (e.target as HTMLSelectElement).value as XAxisMode })}
        >
          {X_AXIS_MODES.map((mode) => (
            <vscode-option key={mode} value={mode} selected={mode === settings.xAxis}>
              {strings.xAxisModes[mode]}
            </vscode-option>
          ))}
        </vscode-single-select>
      </label>
      <vscode-checkbox
        class="log-scale"
        label={strings.logScale}
        checked={settings.logScale}
        onChange={(e: Event) => patch({ logScale: inputOf(e).checked })}
      />
      <vscode-checkbox
        class="show-raw"
        label={strings.showRaw}
        checked={settings.showRaw}
        onChange={(e: Event) => patch({ showRaw: inputOf(e).checked })}
      />
      <vscode-button class="export-csv" secondary onClick={onExportCsv}>
        {strings.exportCsv}
      </vscode-button>
    </div>
  );
}
