import type { ReadonlyJSONObject } from '@lumino/coreutils';

import { compare, MINUTE, MinuteCounts } from './minutes';

/**
 * The schema of cell executions, as the capture records them.
 */
export const CELL_EXECUTION_SCHEMA =
  'https://events.jupyter.org/jupyter_events_ext/cell-execution/v1';

/**
 * The schema of executed commands, as the capture records them.
 */
export const COMMAND_SCHEMA =
  'https://events.jupyter.org/jupyter_events_ext/command/v1';

/**
 * The fewest minutes the per-minute charts span.
 */
const MIN_SPAN = 10;

/**
 * What the Activity view draws, aggregated one event at a time in bounded
 * memory, so that it can follow the live stream for as long as it stays open:
 *
 * - events per minute and schema, for the last `windowMinutes` minutes;
 * - the durations of the last `maxDurations` finished cell executions;
 * - failed cell executions per minute and error name, in the same window;
 * - how often each command ran, for at most `maxCommands` commands.
 *
 * The window ends at the newest event seen (not at the clock), so that the
 * history the server replays is drawn as it happened, and so that the
 * aggregation is a pure function of the events.
 */
export class ActivityModel {
  constructor(options: ActivityModel.IOptions = {}) {
    this.windowMinutes = Math.max(1, options.windowMinutes ?? 60);
    this.maxDurations = Math.max(1, options.maxDurations ?? 1000);
    this.maxCommands = Math.max(1, options.maxCommands ?? 200);
    this._perMinute = new MinuteCounts(this.windowMinutes);
    this._failures = new MinuteCounts(this.windowMinutes);
  }

  /**
   * How many minutes the per-minute charts cover.
   */
  readonly windowMinutes: number;

  /**
   * How many cell durations are kept (the newest).
   */
  readonly maxDurations: number;

  /**
   * How many distinct commands are counted.
   */
  readonly maxCommands: number;

  /**
   * The totals since the model was created or cleared, every event counted
   * whatever the bounds keep.
   */
  get totals(): ActivityModel.ITotals {
    return { ...this._totals };
  }

  /**
   * The time of the oldest event counted, in ms since the epoch.
   */
  get since(): number | null {
    return this._since;
  }

  /**
   * Count one event. Returns whether it was counted: an event without a
   * readable `__timestamp__` or `__schema__` is not.
   */
  add(event: ReadonlyJSONObject): boolean {
    const time = Date.parse(String(event.__timestamp__));
    const schema = event.__schema__;
    if (Number.isNaN(time) || typeof schema !== 'string' || schema === '') {
      return false;
    }
    this._totals.events++;
    if (this._since === null || time < this._since) {
      this._since = time;
    }
    this._perMinute.add(time, schema);
    // Both per-minute counts share one window, even without a failure.
    this._failures.advance(time);
    if (schema === CELL_EXECUTION_SCHEMA) {
      this._addExecution(time, event);
    } else if (schema === COMMAND_SCHEMA) {
      this._addCommand(event);
    }
    return true;
  }

  /**
   * Forget everything counted.
   */
  clear(): void {
    this._perMinute.clear();
    this._failures.clear();
    this._durations = [];
    this._nextDuration = 0;
    this._commands.clear();
    this._totals = { events: 0, executions: 0, failures: 0, commands: 0 };
    this._since = null;
  }

  /**
   * The minutes the per-minute charts span, in ms since the epoch: from the
   * oldest minute kept (or `MIN_SPAN` minutes before the newest, if that is
   * earlier) to the newest; `null` before any event.
   */
  window(): { start: number; end: number } | null {
    const end = this._perMinute.newest;
    const oldest = this._perMinute.oldest;
    if (end === null || oldest === null) {
      return null;
    }
    // At least a few minutes, so that a first minute is not a lone block.
    const least = Math.min(MIN_SPAN, this.windowMinutes) - 1;
    return { start: Math.min(oldest, end - least * MINUTE), end };
  }

  /**
   * Events per minute and schema in the window, oldest minute first.
   */
  eventsPerMinute(): ActivityModel.IMinuteCount[] {
    return this._perMinute
      .rows()
      .map(([minute, schema, count]) => ({ minute, schema, count }));
  }

  /**
   * The durations of the newest finished cell executions, oldest first.
   */
  durations(): ActivityModel.IDuration[] {
    const kept = this._durations;
    const next = this._nextDuration;
    return kept.length < this.maxDurations
      ? [...kept]
      : [...kept.slice(next), ...kept.slice(0, next)];
  }

  /**
   * Failed cell executions per minute and error name in the window (`error`
   * is `null` when the event names none), oldest minute first.
   */
  failuresPerMinute(): ActivityModel.IFailureCount[] {
    return this._failures.rows().map(([minute, error, count]) => ({
      minute,
      error: error === NO_ERROR_NAME ? null : error,
      count
    }));
  }

  /**
   * The most executed commands, most first (ties by id), at most `limit`.
   *
   * Once more than `maxCommands` distinct commands ran, a new one takes the
   * place of the least counted, with that count plus one (the "space saving"
   * count of Metwally et al.): a command run more often than once in
   * `maxCommands` is never lost, though a count may then be over by what the
   * one it replaced had.
   */
  topCommands(limit = 10): ActivityModel.ICommandCount[] {
    return [...this._commands]
      .map(([command, count]) => ({ command, count }))
      .sort((a, b) => b.count - a.count || compare(a.command, b.command))
      .slice(0, Math.max(0, limit));
  }

  private _addExecution(time: number, event: ReadonlyJSONObject): void {
    if (event.phase !== 'finished') {
      return;
    }
    this._totals.executions++;
    const success = event.success !== false;
    const error =
      typeof event.error_name === 'string' && event.error_name !== ''
        ? event.error_name
        : null;
    if (!success) {
      this._totals.failures++;
      this._failures.add(time, error ?? NO_ERROR_NAME);
    }
    const duration = event.duration_ms;
    if (typeof duration !== 'number' || !(duration >= 0)) {
      return;
    }
    const record: ActivityModel.IDuration = {
      time: new Date(time).toISOString(),
      duration_ms: duration,
      success,
      error
    };
    if (this._durations.length < this.maxDurations) {
      this._durations.push(record);
    } else {
      // A ring: the newest replaces the oldest.
      this._durations[this._nextDuration] = record;
      this._nextDuration = (this._nextDuration + 1) % this.maxDurations;
    }
  }

  private _addCommand(event: ReadonlyJSONObject): void {
    const command = event.command_id;
    if (typeof command !== 'string' || command === '') {
      return;
    }
    this._totals.commands++;
    const commands = this._commands;
    const count = commands.get(command);
    if (count !== undefined) {
      commands.set(command, count + 1);
      return;
    }
    if (commands.size < this.maxCommands) {
      commands.set(command, 1);
      return;
    }
    let least: string | null = null;
    let leastCount = Infinity;
    for (const [other, otherCount] of commands) {
      if (otherCount < leastCount) {
        least = other;
        leastCount = otherCount;
      }
    }
    commands.delete(least!);
    commands.set(command, leastCount + 1);
  }

  private _commands = new Map<string, number>();
  private _durations: ActivityModel.IDuration[] = [];
  private _failures: MinuteCounts;
  private _nextDuration = 0;
  private _perMinute: MinuteCounts;
  private _since: number | null = null;
  private _totals = { events: 0, executions: 0, failures: 0, commands: 0 };
}

/**
 * The types of the Activity model.
 */
export namespace ActivityModel {
  export interface IOptions {
    /**
     * How many minutes the per-minute charts cover (60 by default).
     */
    windowMinutes?: number;
    /**
     * How many cell durations to keep (1000 by default).
     */
    maxDurations?: number;
    /**
     * How many distinct commands to count (200 by default).
     */
    maxCommands?: number;
  }

  export interface ITotals {
    /**
     * Every event counted.
     */
    events: number;
    /**
     * Finished cell executions.
     */
    executions: number;
    /**
     * Failed cell executions.
     */
    failures: number;
    /**
     * Executed commands.
     */
    commands: number;
  }

  export interface IMinuteCount {
    /**
     * The minute's start, RFC 3339 in UTC.
     */
    minute: string;
    /**
     * The schema's `$id`.
     */
    schema: string;
    count: number;
  }

  export interface IDuration {
    /**
     * When the execution finished (as recorded), RFC 3339 in UTC.
     */
    time: string;
    duration_ms: number;
    success: boolean;
    error: string | null;
  }

  export interface IFailureCount {
    minute: string;
    error: string | null;
    count: number;
  }

  export interface ICommandCount {
    command: string;
    count: number;
  }
}

/**
 * A key no error name can be (error names are identifiers).
 */
const NO_ERROR_NAME = '\u0000';
