import type { JSONObject } from '@lumino/coreutils';

// The JupyterLab theme in force, as the charts draw in it: read from its CSS
// variables through `read` (the view passes getComputedStyle's).

/**
 * A Vega-Lite `config` in the colours and fonts of the JupyterLab theme in
 * force, read from its CSS variables by `read`; variables a theme leaves
 * empty keep Vega's defaults (the vega5-extension picks its dark theme for a
 * dark JupyterLab theme, and this config then takes precedence).
 */
export function themeConfig(read: (variable: string) => string): JSONObject {
  const css = (variable: string) => read(variable).trim() || undefined;
  const font = css('--jp-ui-font-family');
  const text = css('--jp-ui-font-color1');
  const muted = css('--jp-ui-font-color2');
  const lines = css('--jp-border-color2');
  return prune({
    // The panel's own background shows through.
    background: 'transparent',
    font,
    view: { stroke: null },
    axis: {
      domainColor: lines,
      gridColor: lines,
      tickColor: lines,
      labelColor: muted,
      titleColor: text,
      labelFont: font,
      titleFont: font
    },
    legend: {
      labelColor: text,
      titleColor: text,
      labelFont: font,
      titleFont: font
    },
    title: { color: text, font }
  }) as JSONObject;
}

/**
 * The colours of a succeeded and a failed execution in the theme in force.
 */
export function outcomeColors(
  read: (variable: string) => string
): [string, string] | undefined {
  const success = read('--jp-success-color1').trim();
  const error = read('--jp-error-color1').trim();
  return success && error ? [success, error] : undefined;
}

/**
 * The object without its `undefined` values, at any depth.
 */
function prune(value: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) {
      continue;
    }
    result[key] =
      item !== null && typeof item === 'object' && !Array.isArray(item)
        ? prune(item as Record<string, unknown>)
        : item;
  }
  return result;
}
