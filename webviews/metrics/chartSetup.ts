// Only the chart.js pieces the panel draws with are registered, so esbuild can drop the rest.
import { Chart, LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip } from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip);

export { Chart };
