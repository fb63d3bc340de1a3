import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

/**
 * How paths are recorded.
 */
export type PathMode = 'as-is' | 'hashed' | 'omitted';

/**
 * The kinds of actions, each on or off.
 */
export type Kind =
  | 'commands'
  | 'documents'
  | 'cellExecution'
  | 'kernels'
  | 'activeDocument'
  | 'cellEdits'
  | 'notebookStructure'
  | 'attention'
  | 'cellOutputs'
  | 'clipboard'
  | 'snapshots';

/**
 * Every kind, in the order the settings list them.
 */
export const KINDS: ReadonlyArray<Kind> = [
  'commands',
  'documents',
  'cellExecution',
  'kernels',
  'activeDocument',
  'cellEdits',
  'notebookStructure',
  'attention',
  'cellOutputs',
  'clipboard',
  'snapshots'
];

/**
 * What is captured (the settings of the same names, except `enabled`, whose
 * setting is `capture`).
 */
export interface ICaptureConfig extends Record<Kind, boolean> {
  /**
   * Whether anything is captured.
   */
  enabled: boolean;
  /**
   * Command ids recorded (`*` matches any characters).
   */
  commandAllow: string[];
  /**
   * Command ids never recorded, even when allowed.
   */
  commandDeny: string[];
  /**
   * Command ids whose arguments are recorded (paths in them as `pathMode` says).
   */
  commandArgs: string[];
  /**
   * How paths are recorded.
   */
  pathMode: PathMode;
  /**
   * Whether a cell edit event carries the text inserted (capped); never by default.
   */
  cellEditText: boolean;
  /**
   * The most characters of inserted text one cell edit event carries.
   */
  cellEditTextMax: number;
  /**
   * How long a cell stays unedited before its burst of edits is recorded (ms).
   */
  cellEditIdleMs: number;
  /**
   * The least time between two records of the cells in view (seconds).
   */
  attentionSampleSeconds: number;
  /**
   * Whether an output summary carries the error's traceback (capped).
   */
  outputTracebacks: boolean;
  /**
   * The most characters of traceback one output summary carries.
   */
  outputTracebackMax: number;
  /**
   * Whether a notebook snapshot keeps the outputs.
   */
  snapshotOutputs: boolean;
  /**
   * The largest snapshot sent, in bytes of JSON; a larger one is not sent.
   */
  snapshotMaxBytes: number;
  /**
   * The most events of one kind recorded in any minute; more are dropped and counted.
   */
  rateLimit: number;
  /**
   * Whether a notebook's metadata may turn capture off for it (and the
   * toolbar toggle may set it).
   */
  notebookOptOut: boolean;
}

/**
 * The settings' defaults.
 */
export const DEFAULT_CONFIG: ICaptureConfig = {
  enabled: true,
  commands: true,
  documents: true,
  cellExecution: true,
  kernels: true,
  activeDocument: true,
  cellEdits: true,
  notebookStructure: true,
  attention: true,
  cellOutputs: true,
  clipboard: false,
  snapshots: false,
  commandAllow: ['*'],
  // Runs on every change of focus, so it would drown the commands people run.
  commandDeny: ['helpmenu:get-kernel'],
  commandArgs: [],
  pathMode: 'hashed',
  cellEditText: false,
  cellEditTextMax: 1000,
  cellEditIdleMs: 2000,
  attentionSampleSeconds: 5,
  outputTracebacks: false,
  outputTracebackMax: 2000,
  snapshotOutputs: false,
  snapshotMaxBytes: 1024 * 1024,
  rateLimit: 600,
  notebookOptOut: true
};

/**
 * The capture configuration the settings (their composite, locks applied) say.
 * Every setting has the name of its field, except `capture` for `enabled`.
 */
export function captureConfig(
  composite: ReadonlyPartialJSONObject
): Partial<ICaptureConfig> {
  const config: Record<string, unknown> = {};
  for (const key of Object.keys(DEFAULT_CONFIG)) {
    const value = composite[key === 'enabled' ? 'capture' : key];
    if (value !== undefined) {
      config[key] = value;
    }
  }
  return config as Partial<ICaptureConfig>;
}

/**
 * The version of the UI-action schemas these events follow.
 */
export const VERSION = 1;

const BASE = 'https://events.jupyter.org/jupyter_events_ext';

/**
 * The UI-action schemas the server ships.
 */
export const SCHEMAS = {
  command: `${BASE}/command/v1`,
  document: `${BASE}/document/v1`,
  cellExecution: `${BASE}/cell-execution/v1`,
  kernel: `${BASE}/kernel/v1`,
  activeDocument: `${BASE}/active-document/v1`,
  cellEdit: `${BASE}/cell-edit/v1`,
  notebookStructure: `${BASE}/notebook-structure/v1`,
  attention: `${BASE}/attention/v1`,
  cellOutputs: `${BASE}/cell-outputs/v1`,
  clipboard: `${BASE}/clipboard/v1`,
  notebookSnapshot: `${BASE}/notebook-snapshot/v1`,
  captureDrops: `${BASE}/capture-drops/v1`
} as const;

/**
 * The name of a UI-action schema.
 */
export type SchemaName = keyof typeof SCHEMAS;
