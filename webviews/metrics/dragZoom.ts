import type { LineChart } from './chartView.ts';

/** The band a drag has swept so far, in canvas pixels. */
export interface DragBand {
  startX: number;
  currentX: number;
}

export interface DragZoomHandlers {
  /** A drag wider than a few pixels: zoom to this x range (axis units). */
  onZoom(range: [number, number]): void;
  /** A press and release in place: a click at this x (pixels). */
  onClick(px: number): void;
  /** A double-click: back to the whole range. */
  onReset(): void;
}

/** Below this width (px) a drag is a click. */
const CLICK_SLOP_PX = 5;

/**
 * Drag to zoom, click, and double-click to reset, as plain DOM listeners: chart.js delivers at most
 * one event per frame, so a quick click's mousedown and mouseup could merge there.
 */
export function attachDragZoom(canvas: HTMLCanvasElement, chartOf: () => LineChart | null, handlers: DragZoomHandlers) {
  let band: DragBand | null = null;
  const xIn = (event: MouseEvent, chart: LineChart) => {
    const offset = event.clientX - canvas.getBoundingClientRect().left;
    const area = chart.chartArea;
    return { x: Math.min(Math.max(offset, area.left), area.right), inside: offset >= area.left && offset <= area.right };
  };
  const onDown = (event: MouseEvent) => {
    const chart = chartOf();
    if (!chart || event.button !== 0) return;
    const { x, inside } = xIn(event, chart);
    if (inside) band = { startX: x, currentX: x };
  };
  const onMove = (event: MouseEvent) => {
    const chart = chartOf();
    if (!chart || !band) return;
    band.currentX = xIn(event, chart).x;
    chart.render();
  };
  const onUp = () => {
    const chart = chartOf();
    if (!chart || !band) return;
    const { startX, currentX } = band;
    band = null;
    chart.render();
    if (Math.abs(currentX - startX) <= CLICK_SLOP_PX) return handlers.onClick(startX);
    const scale = chart.scales['x']!;
    handlers.onZoom([scale.getValueForPixel(Math.min(startX, currentX))!, scale.getValueForPixel(Math.max(startX, currentX))!]);
  };
  const onDoubleClick = () => handlers.onReset();
  canvas.addEventListener('mousedown', onDown);
  canvas.addEventListener('dblclick', onDoubleClick);
  // On the window, so a drag released outside the chart still ends.
  window.addEventListener('mousemove', onMove);
  window.addEventListener('mouseup', onUp);
  return {
    band: (): DragBand | null => band,
    dispose(): void {
      canvas.removeEventListener('mousedown', onDown);
      canvas.removeEventListener('dblclick', onDoubleClick);
      window.removeEventListener('mousemove', onMove);
      window.removeEventListener('mouseup', onUp);
    },
  };
}
