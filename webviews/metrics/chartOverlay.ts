import type { ChartArea, Plugin, Scale } from 'chart.js';
import { withAlpha, type ThemeColors } from '../shared/theme.ts';
import type { MarkerLine } from './chartMarkers.ts';
import type { DragBand } from './dragZoom.ts';

/** What the overlay draws, read each time chart.js draws (the markers and the band change between frames). */
export interface OverlaySource {
  theme(): ThemeColors;
  lines(): MarkerLine[];
  band(): DragBand | null;
}

function drawMarkers(ctx: CanvasRenderingContext2D, area: ChartArea, x: Scale, lines: MarkerLine[], muted: string): void {
  let lastFoot = -Infinity;
  for (const line of [...lines].sort((a, b) => a.x - b.x)) {
    const px = x.getPixelForValue(line.x);
    if (px < area.left || px > area.right) continue;
    ctx.strokeStyle = line.color;
    ctx.setLineDash(line.dash);
    ctx.lineWidth = line.label ? 2 : 1;
    ctx.beginPath();
    ctx.moveTo(px, area.top);
    ctx.lineTo(px, area.bottom);
    ctx.stroke();
    if (line.label) {
      ctx.fillStyle = line.color;
      ctx.font = '10px sans-serif';
      ctx.fillText(line.label, Math.min(px + 3, area.right - 40), area.top + 10);
    }
    // Saved models' epochs at the foot, skipped where they would overlap the previous one.
    if (line.footLabel && px - lastFoot >= 28) {
      ctx.fillStyle = muted;
      ctx.font = '9px sans-serif';
      ctx.fillText(line.footLabel, Math.min(px + 2, area.right - 20), area.bottom - 3);
      lastFoot = px;
    }
  }
}

/** A chart.js plugin: the panel's background, the checkpoint markers and the drag-zoom band. */
export function chartOverlay(source: OverlaySource): Plugin<'line'> {
  return {
    id: 'rvcOverlay',
    beforeDraw(chart) {
      // An opaque background so an exported PNG looks like the panel, not a transparent sheet.
      const ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = source.theme().background;
      ctx.fillRect(0, 0, chart.width, chart.height);
      ctx.restore();
    },
    afterDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      const theme = source.theme();
      const band = source.band();
      ctx.save();
      drawMarkers(ctx, chartArea, scales['x']!, source.lines(), theme.muted);
      if (band) {
        ctx.fillStyle = withAlpha(theme.foreground, 0.12);
        const left = Math.min(band.startX, band.currentX);
        ctx.fillRect(left, chartArea.top, Math.abs(band.currentX - band.startX), chartArea.bottom - chartArea.top);
      }
      ctx.restore();
    },
  };
}
