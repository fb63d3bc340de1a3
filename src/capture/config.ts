import type { IEventsSettings } from '../tokens';

/**
 * How paths are recorded.
 */
export type PathMode = IEventsSettings.PathMode;

/**
 * The kinds of actions, each on or off.
 */
export type Kind = IEventsSettings.Kind;

/**
 * What is captured (the settings of the same names, except `enabled`, whose
 * setting is `capture`), as the settings model gives it.
 */
export type ICaptureConfig = IEventsSettings.ICapture;

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
