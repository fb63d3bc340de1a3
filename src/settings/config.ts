import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import type { IEventsConsent, IEventsSettings } from '../tokens';

/**
 * Every kind of UI action, in the order the settings list them.
 */
export const KINDS: ReadonlyArray<IEventsSettings.Kind> = [
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
 * The capture settings' defaults (`schema/plugin.json` has the same; a test
 * checks it).
 */
export const DEFAULT_CONFIG: IEventsSettings.ICapture = {
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
 * The delivery settings' defaults.
 */
export const DEFAULT_DELIVERY: IEventsSettings.IDelivery = {
  batchSize: 200,
  batchInterval: 1000,
  queueBound: 10000
};

/**
 * The capture configuration the settings (their composite, locks applied)
 * say. Every setting has the name of its field, except `capture` for
 * `enabled`.
 */
export function captureConfig(
  composite: ReadonlyPartialJSONObject
): Partial<IEventsSettings.ICapture> {
  const config: Record<string, unknown> = {};
  for (const key of Object.keys(DEFAULT_CONFIG)) {
    const value = composite[key === 'enabled' ? 'capture' : key];
    if (value !== undefined) {
      config[key] = value;
    }
  }
  return config as Partial<IEventsSettings.ICapture>;
}

/**
 * The path modes, from least to most protected, as the server orders them.
 */
export const PATH_MODES: ReadonlyArray<IEventsSettings.PathMode> = [
  'as-is',
  'hashed',
  'omitted'
];

/**
 * The settings in force, read once from their composite (where the
 * registry's transform put the operator's locked values already): typed,
 * every value of the type its default has (the default otherwise), frozen.
 */
export function parseSettings(
  composite: ReadonlyPartialJSONObject
): IEventsSettings.IConfig {
  const capture = Private.typed(
    DEFAULT_CONFIG,
    captureConfig(composite) as Record<string, unknown>
  );
  if (!PATH_MODES.includes(capture.pathMode)) {
    capture.pathMode = DEFAULT_CONFIG.pathMode;
  }
  const delivery = Private.typed(DEFAULT_DELIVERY, composite);
  const consent = Private.CONSENT_MODES.includes(composite.consent as any)
    ? (composite.consent as IEventsConsent.Mode)
    : // A mode this version does not know asks first: the safe side.
      composite.consent === undefined
      ? 'notice'
      : 'opt-in';
  const locked = Array.isArray(composite.locked)
    ? composite.locked.filter((key): key is string => typeof key === 'string')
    : [];
  return Private.freeze({ capture, delivery, consent, locked });
}

namespace Private {
  export const CONSENT_MODES: ReadonlyArray<string> = [
    'notice',
    'opt-in',
    'none'
  ];

  /**
   * The defaults, each replaced by the value given when it has the same
   * type (arrays: of strings).
   */
  export function typed<T extends object>(
    defaults: T,
    values: Readonly<Record<string, unknown>>
  ): T {
    const result: Record<string, unknown> = {};
    for (const [key, fallback] of Object.entries(defaults)) {
      const value = values[key];
      const fits = Array.isArray(fallback)
        ? Array.isArray(value) && value.every(v => typeof v === 'string')
        : typeof value === typeof fallback;
      const chosen = fits ? value : fallback;
      // Copied: the registry's arrays (and the defaults) are not ours to freeze.
      result[key] = Array.isArray(chosen) ? [...chosen] : chosen;
    }
    return result as T;
  }

  /**
   * The object and every object and array in it, frozen.
   */
  export function freeze<T>(value: T): T {
    if (value !== null && typeof value === 'object') {
      for (const item of Object.values(value)) {
        freeze(item);
      }
      Object.freeze(value);
    }
    return value;
  }
}
