import { nullTranslator } from '@jupyterlab/translation';

import { chartSpec, schemaNames, TOP_COMMANDS } from '../activity/charts';
import {
  ActivityModel,
  CELL_EXECUTION_SCHEMA,
  COMMAND_SCHEMA
} from '../activity/model';
import { themeConfig } from '../activity/theme';

const KERNEL = 'https://events.jupyter.org/jupyter_events_ext/kernel/v1';
const T0 = Date.parse('2026-11-27T10:00:00.000Z');
const MINUTE = 60 * 1000;

function at(ms: number): string {
  return new Date(T0 + ms).toISOString();
}

function event(schema: string, ms: number, data: object = {}) {
  return {
    __timestamp__: at(ms),
    __schema__: schema,
    __schema_version__: '1',
    __metadata_version__: 1,
    ...data
  };
}

function finished(ms: number, duration: number, error?: string) {
  return event(CELL_EXECUTION_SCHEMA, ms, {
    phase: 'finished',
    success: error === undefined,
    duration_ms: duration,
    ...(error ? { error_name: error } : {})
  });
}

function command(ms: number, id: string) {
  return event(COMMAND_SCHEMA, ms, { command_id: id });
}

describe('ActivityModel', () => {
  it('counts events per minute and schema, oldest minute first', () => {
    const model = new ActivityModel();
    model.add(event(KERNEL, 0));
    model.add(command(30 * 1000, 'a'));
    model.add(event(KERNEL, 59 * 1000));
    model.add(event(KERNEL, 61 * 1000));
    expect(model.eventsPerMinute()).toEqual([
      { minute: at(0), schema: COMMAND_SCHEMA, count: 1 },
      { minute: at(0), schema: KERNEL, count: 2 },
      { minute: at(MINUTE), schema: KERNEL, count: 1 }
    ]);
    expect(model.totals.events).toBe(4);
    expect(model.since).toBe(T0);
  });

  it('keeps only the minutes of its window, which ends at the newest event', () => {
    const model = new ActivityModel({ windowMinutes: 3 });
    for (let minute = 0; minute < 10; minute++) {
      model.add(event(KERNEL, minute * MINUTE));
    }
    expect(model.eventsPerMinute().map(row => row.minute)).toEqual([
      at(7 * MINUTE),
      at(8 * MINUTE),
      at(9 * MINUTE)
    ]);
    // Spanning at most the window (here shorter than the least span).
    expect(model.window()).toEqual({
      start: T0 + 7 * MINUTE,
      end: T0 + 9 * MINUTE
    });
    // A late event from before the window is counted in the totals only.
    model.add(event(KERNEL, 2 * MINUTE));
    expect(model.eventsPerMinute()).toHaveLength(3);
    expect(model.totals.events).toBe(11);
    // One inside it is bucketed where it belongs.
    model.add(event(KERNEL, 8 * MINUTE + 5));
    expect(model.eventsPerMinute()[1]).toEqual({
      minute: at(8 * MINUTE),
      schema: KERNEL,
      count: 2
    });
  });

  it('keeps the durations of finished executions, not of started ones', () => {
    const model = new ActivityModel();
    model.add(event(CELL_EXECUTION_SCHEMA, 0, { phase: 'started' }));
    model.add(finished(100, 12.5));
    model.add(finished(200, 3000, 'ZeroDivisionError'));
    expect(model.durations()).toEqual([
      { time: at(100), duration_ms: 12.5, success: true, error: null },
      {
        time: at(200),
        duration_ms: 3000,
        success: false,
        error: 'ZeroDivisionError'
      }
    ]);
    expect(model.totals).toMatchObject({ executions: 2, failures: 1 });
  });

  it('keeps the newest durations only, oldest first', () => {
    const model = new ActivityModel({ maxDurations: 3 });
    for (let i = 1; i <= 7; i++) {
      model.add(finished(i, i));
    }
    expect(model.durations().map(row => row.duration_ms)).toEqual([5, 6, 7]);
    expect(model.totals.executions).toBe(7);
  });

  it('counts failures per minute by error name, in the window', () => {
    const model = new ActivityModel({ windowMinutes: 2 });
    model.add(finished(0, 1, 'KeyError'));
    model.add(finished(MINUTE, 1, 'ZeroDivisionError'));
    model.add(finished(MINUTE + 1, 1));
    model.add(finished(MINUTE + 2, 1, 'ZeroDivisionError'));
    model.add(
      event(CELL_EXECUTION_SCHEMA, MINUTE + 3, {
        phase: 'finished',
        success: false
      })
    );
    expect(model.failuresPerMinute()).toEqual([
      { minute: at(0), error: 'KeyError', count: 1 },
      { minute: at(MINUTE), error: null, count: 1 },
      { minute: at(MINUTE), error: 'ZeroDivisionError', count: 2 }
    ]);
    model.add(finished(2 * MINUTE, 1));
    expect(model.failuresPerMinute().map(row => row.minute)).toEqual([
      at(MINUTE),
      at(MINUTE)
    ]);
    expect(model.totals.failures).toBe(4);
  });

  it('ranks the commands, most run first, ties by id', () => {
    const model = new ActivityModel();
    for (const id of ['b', 'a', 'c', 'a', 'c', 'a']) {
      model.add(command(0, id));
    }
    expect(model.topCommands()).toEqual([
      { command: 'a', count: 3 },
      { command: 'c', count: 2 },
      { command: 'b', count: 1 }
    ]);
    expect(model.topCommands(1)).toEqual([{ command: 'a', count: 3 }]);
    expect(model.totals.commands).toBe(6);
  });

  it('counts at most maxCommands commands, never losing a frequent one', () => {
    const model = new ActivityModel({ maxCommands: 3 });
    // One command in two is the same: more often than one in three.
    for (let i = 0; i < 100; i++) {
      model.add(command(0, 'frequent'));
      model.add(command(0, `rare-${i}`));
    }
    const top = model.topCommands(100);
    expect(top).toHaveLength(3);
    expect(top[0]).toEqual({ command: 'frequent', count: 100 });
    // The newest rare command took the place of the least counted one.
    expect(top.map(row => row.command)).toContain('rare-99');
    expect(model.totals.commands).toBe(200);
  });

  it('ignores events without a time or schema, and forgets on clear', () => {
    const model = new ActivityModel();
    expect(model.add({ __schema__: KERNEL, __timestamp__: 'never' })).toBe(
      false
    );
    expect(model.add({ __timestamp__: at(0) })).toBe(false);
    expect(model.add(command(0, 'a'))).toBe(true);
    model.add(finished(0, 5, 'E'));
    model.clear();
    expect(model.totals).toEqual({
      events: 0,
      executions: 0,
      failures: 0,
      commands: 0
    });
    expect(model.eventsPerMinute()).toEqual([]);
    expect(model.durations()).toEqual([]);
    expect(model.failuresPerMinute()).toEqual([]);
    expect(model.topCommands()).toEqual([]);
    expect(model.window()).toBeNull();
  });

  it('stays bounded over a long stream', () => {
    const model = new ActivityModel({
      windowMinutes: 60,
      maxDurations: 100,
      maxCommands: 50
    });
    // Six hours at ten events a second.
    for (let i = 0; i < 6 * 3600 * 10; i++) {
      const ms = i * 100;
      model.add(
        i % 3 === 0
          ? finished(ms, i % 1000, i % 7 === 0 ? 'E' : undefined)
          : command(ms, `cmd-${i % 500}`)
      );
    }
    expect(model.totals.events).toBe(216000);
    expect(
      new Set(model.eventsPerMinute().map(row => row.minute)).size
    ).toBeLessThanOrEqual(60);
    expect(
      new Set(model.failuresPerMinute().map(row => row.minute)).size
    ).toBeLessThanOrEqual(60);
    expect(model.durations()).toHaveLength(100);
    expect(model.topCommands(1000).length).toBeLessThanOrEqual(50);
  });
});

describe('chart specs', () => {
  const trans = nullTranslator.load('jupyter_events_ext');
  const style = { config: { background: 'transparent' }, width: 400 };

  function model() {
    const activity = new ActivityModel();
    activity.add(event(KERNEL, 0));
    activity.add(finished(1000, 0.4));
    activity.add(finished(2000, 2500, 'ValueError'));
    for (let i = 0; i < 12; i++) {
      for (let n = 0; n <= i; n++) {
        activity.add(command(3000, `cmd-${i}`));
      }
    }
    return activity;
  }

  it('is null while there is nothing to draw', () => {
    const empty = new ActivityModel();
    for (const id of ['events', 'durations', 'failures', 'commands'] as const) {
      expect(chartSpec(id, empty, style, trans)).toBeNull();
    }
  });

  it('draws events per minute with short schema names', () => {
    const spec = chartSpec('events', model(), style, trans)!;
    expect(spec.width).toBe(400);
    expect(spec.config).toEqual({ background: 'transparent' });
    expect((spec.data as any).values).toEqual([
      {
        minute: at(0),
        schema: 'cell-execution',
        schema_id: CELL_EXECUTION_SCHEMA,
        count: 2
      },
      {
        minute: at(0),
        schema: 'command',
        schema_id: COMMAND_SCHEMA,
        count: 78
      },
      { minute: at(0), schema: 'kernel', schema_id: KERNEL, count: 1 }
    ]);
    // Ten minutes at least, up to the end of the newest.
    expect((spec.encoding as any).x.scale.domain).toEqual([
      T0 - 9 * MINUTE,
      T0 + MINUTE
    ]);
  });

  it('draws durations on a log scale, the fastest at 1 ms', () => {
    const spec = chartSpec('durations', model(), style, trans)!;
    expect((spec.data as any).values).toEqual([
      {
        time: at(1000),
        seconds: 0.001,
        duration_ms: 0.4,
        outcome: 'Succeeded',
        error: ''
      },
      {
        time: at(2000),
        seconds: 2.5,
        duration_ms: 2500,
        outcome: 'Failed',
        error: 'ValueError'
      }
    ]);
    expect((spec.encoding as any).y.scale.type).toBe('log');
  });

  it('colours outcomes in the theme’s success and error colours', () => {
    const spec = chartSpec(
      'durations',
      model(),
      { ...style, outcomeColors: ['green', 'red'] },
      trans
    )!;
    expect((spec.encoding as any).color.scale).toEqual({
      domain: ['Succeeded', 'Failed'],
      range: ['green', 'red']
    });
  });

  it('draws failures per minute by error name', () => {
    const spec = chartSpec('failures', model(), style, trans)!;
    expect((spec.data as any).values).toEqual([
      { minute: at(0), error: 'ValueError', count: 1 }
    ]);
  });

  it('draws the top commands only', () => {
    const spec = chartSpec('commands', model(), style, trans)!;
    const values = (spec.data as any).values;
    expect(values).toHaveLength(TOP_COMMANDS);
    expect(values[0]).toEqual({ command: 'cmd-11', count: 12 });
    expect(values[TOP_COMMANDS - 1]).toEqual({ command: 'cmd-2', count: 3 });
  });

  it('names schemas by their last segment unless two would share it', () => {
    const names = schemaNames([
      'https://a.org/x/kernel/v1',
      'https://b.org/kernel/v2',
      'https://a.org/command/v1'
    ]);
    expect([...names.values()]).toEqual([
      'https://a.org/x/kernel/v1',
      'https://b.org/kernel/v2',
      'command'
    ]);
  });

  it('takes the theme’s colours and fonts from its CSS variables', () => {
    const variables: Record<string, string> = {
      '--jp-ui-font-family': ' system-ui',
      '--jp-ui-font-color1': ' #fff',
      '--jp-ui-font-color2': '#ccc',
      '--jp-border-color2': '#444'
    };
    const config = themeConfig(name => variables[name] ?? '');
    expect(config).toMatchObject({
      background: 'transparent',
      font: 'system-ui',
      axis: { labelColor: '#ccc', titleColor: '#fff', gridColor: '#444' },
      legend: { labelColor: '#fff' }
    });
    // A theme without the variables keeps Vega's defaults.
    expect(themeConfig(() => '')).toEqual({
      background: 'transparent',
      view: { stroke: null },
      axis: {},
      legend: {},
      title: {}
    });
  });
});
