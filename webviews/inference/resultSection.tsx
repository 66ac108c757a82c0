import { formatString } from '../../src/protocol/panelStrings.ts';
import { fileName } from './panelParams.ts';
import type { PanelPartProps } from './panelProps.ts';

/** The last error, or the last conversion: its file, the numbers, and both audios to compare. */
export function ResultSection({ state, requests }: Pick<PanelPartProps, 'state' | 'requests'>) {
  const { error, result, strings } = state;
  return (
    <>
      {error && (
        <p id="error" class="error">
          {error}
        </p>
      )}
      {result && (
        <section id="result">
          <p>
            {formatString(
              strings.result,
              fileName(result.result.outputPath) ?? '',
              result.result.inputSeconds.toFixed(2),
              result.result.sampleRate,
              Math.round(result.result.costMs),
            )}
          </p>
          <div class="row">
            <code id="output-path">{result.result.outputPath}</code>
            <button
              id="reveal"
              title={strings.revealTitle}
              onClick={() => requests.post({ type: 'reveal', path: result.result.outputPath })}
            >
              {strings.reveal}
            </button>
          </div>
          <div class="row">
            <span>{strings.inputAudio}</span>
            <audio id="input-audio" controls src={result.inputUri} />
            <span>{strings.outputAudio}</span>
            <audio id="output-audio" controls src={result.outputUri} />
          </div>
        </section>
      )}
    </>
  );
}
