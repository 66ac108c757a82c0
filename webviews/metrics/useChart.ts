import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChartCardProps } from './chartView.ts';
import { LiveChart } from './liveChart.ts';

/** A card's chart.js chart tied to preact: made on mount, rebuilt when what it draws changes, torn down on unmount. */
export function useChart(props: ChartCardProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const card = useRef<HTMLElement>(null);
  const tooltip = useRef<HTMLDivElement>(null);
  const gaps = useRef<HTMLParagraphElement>(null);
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  const [live] = useState(() => new LiveChart(props, { canvas, card, tooltip, gaps }, setZoom));
  live.view = props;

  useEffect(() => live.mount(), []);
  // Settings, runs, theme or markers changed: rebuild the datasets (not on live appends).
  useEffect(() => {
    live.rebuild('none');
  }, [
    props.settings.xAxis,
    props.settings.logScale,
    props.settings.showRaw,
    props.settings.smoothing,
    props.runs,
    props.theme,
    props.strings,
    props.spec.tags.join('\n'),
  ]);
  useEffect(() => live.markersChanged(), [props.markers]);
  useEffect(() => {
    // A zoom is in x-axis units; they mean something else on another axis.
    if (live.zoom) live.zoomTo(null);
  }, [props.settings.xAxis]);

  const exportPng = () => {
    const base64 = live.png();
    if (base64 !== null) props.onExportPng(props.spec, base64);
  };
  return { refs: { canvas, card, tooltip, gaps }, zoom, resetZoom: () => live.zoomTo(null), exportPng };
}
