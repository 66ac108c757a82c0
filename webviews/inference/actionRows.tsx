import { formatString } from '../../src/protocol/panelStrings.ts';
import type { PanelPartProps } from './panelProps.ts';

/** Load a saved preset, or save the parameters under a name. */
export function PresetRow({ state, dispatch, requests }: PanelPartProps) {
  const { presets, presetName, params, strings } = state;
  return (
    <div class="row">
      <select id="preset" value="" onChange={(e) => dispatch({ type: 'loadPreset', name: e.currentTarget.value })}>
        <option value="">{strings.loadPreset}</option>
        {Object.keys(presets).map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
      <input
        id="preset-name"
        placeholder={strings.presetName}
        value={presetName}
        onInput={(e) => dispatch({ type: 'setPresetName', name: e.currentTarget.value })}
      />
      <button
        id="save-preset"
        disabled={!presetName.trim()}
        onClick={() => requests.send((messageId) => ({ type: 'savePreset', messageId, name: presetName.trim(), params }))}
      >
        {strings.savePreset}
      </button>
    </div>
  );
}

/** Convert the input file, cancel, why Convert is off, and the running conversion's progress. */
export function ConvertRow({ state, ready, requests }: PanelPartProps) {
  const { busy, progress, params, strings } = state;
  const { convertWhy } = ready;
  return (
    <div class="row">
      <button
        id="convert"
        disabled={convertWhy !== null}
        title={convertWhy ?? ''}
        onClick={() => requests.start((messageId) => ({ type: 'convert', messageId, params }))}
      >
        {strings.convert}
      </button>
      <button id="cancel" disabled={!busy} onClick={() => requests.post({ type: 'cancel' })}>
        {strings.cancel}
      </button>
      {convertWhy && !busy && (
        <span id="convert-why" class="why">
          {convertWhy}
        </span>
      )}
      {progress && (
        <span id="progress" role="status">
          <progress value={progress.progress.done} max={progress.progress.total || 1} />{' '}
          {formatString(
            strings.converting,
            progress.file,
            progress.index + 1,
            progress.count,
            progress.progress.total > 1
              ? `${strings.stages[progress.progress.stage]} ${progress.progress.done}/${progress.progress.total}`
              : strings.stages[progress.progress.stage],
          )}
        </span>
      )}
    </div>
  );
}

/** Convert every audio file of a folder, and how that went. */
export function BatchRow({ state, ready, dispatch, requests }: PanelPartProps) {
  const { folder, params, strings, batchSummary } = state;
  const { batchWhy } = ready;
  return (
    <div class="row">
      <label for="folder">{strings.batchFolder}</label>
      <input id="folder" value={folder} onInput={(e) => dispatch({ type: 'setFolder', folder: e.currentTarget.value })} />
      <button onClick={() => requests.browse('folder')}>{strings.browse}</button>
      <button
        id="batch"
        disabled={batchWhy !== null}
        title={batchWhy ?? ''}
        onClick={() => requests.start((messageId) => ({ type: 'batch', messageId, params, folder }))}
      >
        {strings.convertFolder}
      </button>
      {batchSummary && <span id="batch-summary">{batchSummary}</span>}
    </div>
  );
}
