import { formatString } from '../../src/protocol/panelStrings.ts';
import { fileName } from './panelParams.ts';
import type { PanelPartProps } from './panelProps.ts';

/** Past conversions, newest first as the host sends them, each one re-runnable. */
export function HistoryTable({ state, requests }: Pick<PanelPartProps, 'state' | 'requests'>) {
  const { history, busy, strings } = state;
  return (
    <>
      <h3>{strings.history}</h3>
      <table id="history">
        <tbody>
          {history.map((row) => (
            <tr key={row.id} data-task-id={row.id}>
              <td>{new Date(row.createdAt).toLocaleString()}</td>
              <td>{row.status}</td>
              <td>{fileName(row.modelPath)}</td>
              <td>{fileName(row.inputPath)}</td>
              <td>{row.costMs === null ? '' : formatString(strings.milliseconds, row.costMs)}</td>
              <td title={row.errorMsg ?? ''}>{row.errorMsg ? strings.historyError : fileName(row.outputPath)}</td>
              <td>
                <button
                  class="rerun"
                  disabled={busy}
                  onClick={() => requests.start((messageId) => ({ type: 'rerun', messageId, taskId: row.id }))}
                >
                  {strings.rerun}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
