import type { TranslationBundle } from '@jupyterlab/translation';

import type { IEventsSettings } from '../tokens';

type Kind = IEventsSettings.Kind;

/**
 * How one capture kind is named to people.
 */
export interface IKindLabel {
  /**
   * A few words, for the consent notifications (which show 140 characters
   * in all).
   */
  readonly short: string;
  /**
   * What exactly is recorded, for the Event Viewer's "What this browser
   * records".
   */
  readonly long: string;
}

/**
 * Every capture kind's names, in both forms: the one table a new kind is
 * added to (the type makes a missing kind an error).
 */
export function kindLabels(
  trans: TranslationBundle
): Readonly<Record<Kind, IKindLabel>> {
  return {
    commands: {
      short: trans.__('commands'),
      long: trans.__('commands you run (their ids)')
    },
    documents: {
      short: trans.__('documents'),
      long: trans.__('documents opened, saved and closed')
    },
    cellExecution: {
      short: trans.__('cell runs'),
      long: trans.__('cell executions (never source or outputs)')
    },
    kernels: {
      short: trans.__('kernels'),
      long: trans.__('kernels started, restarted, interrupted, shut down')
    },
    activeDocument: {
      short: trans.__('active document'),
      long: trans.__('the document in focus')
    },
    cellEdits: {
      short: trans.__('cell edits'),
      long: trans.__('cell edits: characters added and removed (no text)')
    },
    notebookStructure: {
      short: trans.__('notebook structure'),
      long: trans.__('cells added, deleted, moved or retyped')
    },
    attention: {
      short: trans.__('what is in view'),
      long: trans.__(
        'the active cell, the notebook shown or hidden, cells in view'
      )
    },
    cellOutputs: {
      short: trans.__('output summaries'),
      long: trans.__('output types and error names (never the outputs)')
    },
    clipboard: {
      short: trans.__('clipboard counts'),
      long: trans.__('copy, cut and paste counts (never the text)')
    },
    snapshots: {
      short: trans.__('notebook snapshots'),
      long: trans.__('notebook snapshots on save')
    }
  };
}
