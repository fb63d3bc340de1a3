import type { TranslationBundle } from '@jupyterlab/translation';
import type { JSONObject } from '@lumino/coreutils';

import { shortName } from '../client/schemaName';
import { MINUTE } from './minutes';
import type { ActivityModel } from './model';

/**
 * The MIME type of the specs: JupyterLab's vega5-extension renders it.
 */
export const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';

/**
 * The charts of the Activity view, in the order shown.
 */
export const CHART_IDS = [
  'events',
  'durations',
  'failures',
  'commands'
] as const;

export type ChartId = (typeof CHART_IDS)[number];

/**
 * How the charts look: the theme's colours and the room they have.
 */
export interface IChartStyle {
  /**
   * A Vega-Lite `config` (see `themeConfig` in `theme.ts`).
   */
  config: JSONObject;
  /**
   * The width of the chart, axes and legend included, in pixels.
   */
  width: number;
  /**
   * The colours of a succeeded and a failed execution; Vega's defaults when
   * omitted.
   */
  outcomeColors?: [string, string];
}

/**
 * How many commands the commands chart shows.
 */
export const TOP_COMMANDS = 10;

const HEIGHT = 160;

/**
 * The Vega-Lite spec of one chart, with its data inline, or `null` while the
 * model has nothing for it to draw.
 */
export function chartSpec(
  id: ChartId,
  model: ActivityModel,
  style: IChartStyle,
  trans: TranslationBundle
): JSONObject | null {
  switch (id) {
    case 'events':
      return eventsPerMinuteSpec(model, style, trans);
    case 'durations':
      return durationsSpec(model, style, trans);
    case 'failures':
      return failuresSpec(model, style, trans);
    case 'commands':
      return commandsSpec(model, style, trans);
  }
}

/**
 * Events per minute, stacked by schema.
 */
export function eventsPerMinuteSpec(
  model: ActivityModel,
  style: IChartStyle,
  trans: TranslationBundle
): JSONObject | null {
  const counts = model.eventsPerMinute();
  if (!counts.length) {
    return null;
  }
  const names = schemaNames(counts.map(row => row.schema));
  const values = counts.map(row => ({
    minute: row.minute,
    schema: names.get(row.schema)!,
    schema_id: row.schema,
    count: row.count
  }));
  return perMinuteSpec(model, style, trans, values, {
    count: trans.__('Events'),
    category: 'schema',
    categoryTitle: trans.__('Schema'),
    tooltip: { field: 'schema_id', type: 'nominal', title: trans.__('Schema') }
  });
}

/**
 * Each finished cell execution: when it finished and how long it took (a log
 * scale: a notebook's cells range from milliseconds to hours), coloured by
 * whether it failed.
 */
export function durationsSpec(
  model: ActivityModel,
  style: IChartStyle,
  trans: TranslationBundle
): JSONObject | null {
  const durations = model.durations();
  if (!durations.length) {
    return null;
  }
  const succeeded = trans.__('Succeeded');
  const failed = trans.__('Failed');
  const values = durations.map(row => ({
    time: row.time,
    // A log scale has no zero: the fastest cells are drawn at 1 ms.
    seconds: Math.max(row.duration_ms, 1) / 1000,
    duration_ms: row.duration_ms,
    outcome: row.success ? succeeded : failed,
    error: row.error ?? ''
  }));
  return frame(style, {
    data: { values },
    mark: { type: 'point', filled: true, size: 40, tooltip: true },
    encoding: {
      x: {
        field: 'time',
        type: 'temporal',
        title: trans.__('Finished'),
        // Points at the ends are drawn whole.
        scale: { padding: 8 },
        axis: { format: '%H:%M:%S', labelOverlap: true, tickCount: 6 }
      },
      y: {
        field: 'seconds',
        type: 'quantitative',
        scale: { type: 'log' },
        axis: { tickCount: 6 },
        title: trans.__('Duration (s)')
      },
      color: outcomeColor(style, succeeded, failed, trans),
      tooltip: [
        {
          field: 'time',
          type: 'temporal',
          format: '%H:%M:%S',
          title: trans.__('Finished')
        },
        {
          field: 'duration_ms',
          type: 'quantitative',
          format: ',.0f',
          title: trans.__('Duration (ms)')
        },
        { field: 'outcome', type: 'nominal', title: trans.__('Outcome') },
        { field: 'error', type: 'nominal', title: trans.__('Error') }
      ]
    }
  });
}

/**
 * Failed cell executions per minute, stacked by error name.
 */
export function failuresSpec(
  model: ActivityModel,
  style: IChartStyle,
  trans: TranslationBundle
): JSONObject | null {
  const failures = model.failuresPerMinute();
  if (!failures.length) {
    return null;
  }
  const unnamed = trans.__('(no error name)');
  const values = failures.map(row => ({
    minute: row.minute,
    error: row.error ?? unnamed,
    count: row.count
  }));
  return perMinuteSpec(model, style, trans, values, {
    count: trans.__('Failed cells'),
    category: 'error',
    categoryTitle: trans.__('Error'),
    tooltip: { field: 'error', type: 'nominal', title: trans.__('Error') },
    axis: { tickMinStep: 1 }
  });
}

/**
 * The most executed commands, most first.
 */
export function commandsSpec(
  model: ActivityModel,
  style: IChartStyle,
  trans: TranslationBundle
): JSONObject | null {
  const values = model.topCommands(TOP_COMMANDS);
  if (!values.length) {
    return null;
  }
  return frame(style, {
    data: { values: values.map(row => ({ ...row })) },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: {
        field: 'command',
        type: 'nominal',
        sort: '-x',
        title: null,
        axis: { labelLimit: 220 }
      },
      x: {
        field: 'count',
        type: 'quantitative',
        title: trans.__('Times run'),
        axis: { tickMinStep: 1 }
      },
      tooltip: [
        { field: 'command', type: 'nominal', title: trans.__('Command') },
        { field: 'count', type: 'quantitative', title: trans.__('Times run') }
      ]
    }
  });
}

/**
 * Short names for schema ids: the last segment before the version, or the
 * whole id where two schemas would share a name.
 */
export function schemaNames(ids: Iterable<string>): Map<string, string> {
  const unique = [...new Set(ids)];
  const short = new Map(unique.map(id => [id, shortName(id)]));
  const uses = new Map<string, number>();
  for (const name of short.values()) {
    uses.set(name, (uses.get(name) ?? 0) + 1);
  }
  return new Map(
    unique.map(id => {
      const name = short.get(id)!;
      return [id, uses.get(name)! > 1 ? id : name];
    })
  );
}

function frame(style: IChartStyle, spec: JSONObject): JSONObject {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: style.width,
    height: HEIGHT,
    autosize: { type: 'fit-x', contains: 'padding' },
    // Room for the last label of an x axis, which overhangs the plot.
    padding: { top: 5, bottom: 5, left: 5, right: 16 },
    config: style.config,
    ...spec
  };
}

/**
 * Counts per minute as bars stacked by a category (schema, error name), on
 * the shared per-minute axis.
 */
function perMinuteSpec(
  model: ActivityModel,
  style: IChartStyle,
  trans: TranslationBundle,
  values: JSONObject[],
  options: {
    count: string;
    category: string;
    categoryTitle: string;
    tooltip: JSONObject;
    axis?: JSONObject;
  }
): JSONObject {
  const count = {
    field: 'count',
    type: 'quantitative',
    aggregate: 'sum',
    title: options.count
  };
  return frame(style, {
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: minuteAxis(model, trans),
      y: options.axis ? { ...count, axis: options.axis } : count,
      color: {
        field: options.category,
        type: 'nominal',
        title: options.categoryTitle,
        legend: { orient: 'bottom', columns: 3 }
      },
      tooltip: [minuteTooltip(trans), options.tooltip, count]
    }
  });
}

/**
 * The per-minute x axis, spanning the model's whole window so that the
 * per-minute charts line up.
 */
function minuteAxis(model: ActivityModel, trans: TranslationBundle) {
  const window = model.window()!;
  return {
    field: 'minute',
    type: 'temporal',
    timeUnit: 'yearmonthdatehoursminutes',
    title: trans.__('Minute'),
    scale: { domain: [window.start, window.end + MINUTE] },
    axis: { format: '%H:%M', labelOverlap: true }
  };
}

function minuteTooltip(trans: TranslationBundle) {
  return {
    field: 'minute',
    type: 'temporal',
    timeUnit: 'yearmonthdatehoursminutes',
    format: '%H:%M',
    title: trans.__('Minute')
  };
}

function outcomeColor(
  style: IChartStyle,
  succeeded: string,
  failed: string,
  trans: TranslationBundle
): JSONObject {
  return {
    field: 'outcome',
    type: 'nominal',
    title: trans.__('Outcome'),
    scale: style.outcomeColors
      ? { domain: [succeeded, failed], range: style.outcomeColors }
      : { domain: [succeeded, failed] },
    legend: { orient: 'bottom' }
  };
}
