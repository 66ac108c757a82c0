/**
 * Colours come from VS Code's theme variables so charts follow light, dark and high-contrast themes.
 * Canvas drawing cannot use var(), so values are read from the computed style, and re-read when
 * VS Code swaps the theme class on <body>.
 */
const PALETTE_VARS = [
  '--vscode-charts-blue',
  '--vscode-charts-orange',
  '--vscode-charts-green',
  '--vscode-charts-red',
  '--vscode-charts-purple',
  '--vscode-charts-yellow',
  '--vscode-terminal-ansiCyan',
  '--vscode-terminal-ansiMagenta',
];
const PALETTE_FALLBACK = ['#3794ff', '#d18616', '#89d185', '#f14c4c', '#b180d7', '#cca700', '#29b8db', '#bc3fbc'];

export interface ThemeColors {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  warning: string;
  palette: string[];
  highContrast: boolean;
}

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value === '' ? fallback : value;
}

export function readTheme(): ThemeColors {
  const classes = document.body.classList;
  return {
    foreground: cssVar('--vscode-foreground', '#cccccc'),
    muted: cssVar('--vscode-descriptionForeground', '#9d9d9d'),
    grid: cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', '#80808040')),
    background: cssVar('--vscode-editor-background', '#1e1e1e'),
    warning: cssVar('--vscode-editorWarning-foreground', '#cca700'),
    palette: PALETTE_VARS.map((name, i) => cssVar(name, PALETTE_FALLBACK[i]!)),
    highContrast: classes.contains('vscode-high-contrast') || classes.contains('vscode-high-contrast-light'),
  };
}

/** Calls back when VS Code switches theme (it changes the body's class list). */
export function onThemeChange(callback: () => void): () => void {
  const observer = new MutationObserver(callback);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  return () => observer.disconnect();
}

/** A colour made faint for the raw curve behind the smoothed one. */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color);
  if (hex)
    return `#${hex[1]}${Math.round(alpha * 255)
      .toString(16)
      .padStart(2, '0')}`;
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(color);
  if (short) return withAlpha(`#${short[1]}${short[1]}${short[2]}${short[2]}${short[3]}${short[3]}`, alpha);
  const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(color);
  if (rgb) return `rgba(${rgb[1]}, ${rgb[2]}, ${rgb[3]}, ${alpha})`;
  return color;
}
