import type { JupyterFrontEnd } from '@jupyterlab/application';
import { NotebookPanel } from '@jupyterlab/notebook';
import type { ServerConnection } from '@jupyterlab/services';
import { type ITranslator, nullTranslator } from '@jupyterlab/translation';
import type { CommandRegistry } from '@lumino/commands';
import type { JSONObject, PartialJSONObject } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';

import { requestAPI } from '../client/request';
import type { CaptureEmitter } from './emitter';

/**
 * Whole notebooks on save, when operators opt in: the notebook (outputs only
 * if they say so) goes to the server's snapshot sink, content-addressed, and
 * the event stream gets only its id and hash. A notebook larger than
 * `snapshotMaxBytes` is not sent; the event says so.
 */
export class SnapshotCapture {
  constructor(
    private _emitter: CaptureEmitter,
    private _serverSettings: ServerConnection.ISettings | undefined
  ) {}

  /**
   * Take a snapshot each time the notebook is saved.
   */
  watch(panel: NotebookPanel): void {
    panel.context.saveState.connect((_, state) => {
      if (state === 'completed') {
        void this.take(panel, 'save');
      }
    }, this);
  }

  /**
   * Take a snapshot of a notebook now.
   */
  async take(panel: NotebookPanel, trigger: 'save' | 'command'): Promise<void> {
    const context = panel.context;
    if (
      !this._emitter.capturing('snapshots') ||
      this._emitter.optedOut(context)
    ) {
      return;
    }
    const outputs = this._emitter.config.snapshotOutputs;
    const content = context.model.toJSON() as PartialJSONObject;
    const body = JSON.stringify(
      outputs ? content : SnapshotCapture.withoutOutputs(content)
    );
    const size = new TextEncoder().encode(body).length;
    const fields: JSONObject = {
      trigger,
      outputs_included: outputs,
      size_bytes: size,
      ...this._emitter.notebookFields(context)
    };
    if (size > this._emitter.config.snapshotMaxBytes) {
      this._emitter.emit('snapshots', 'notebookSnapshot', {
        ...fields,
        status: 'too-large'
      });
      return;
    }
    try {
      const stored = await requestAPI<{ id: string; sha256: string }>(
        'snapshots',
        {
          method: 'POST',
          body,
          headers: { 'Content-Type': 'application/json' }
        },
        this._serverSettings
      );
      this._emitter.emit('snapshots', 'notebookSnapshot', {
        ...fields,
        status: 'stored',
        snapshot_id: stored.id,
        sha256: stored.sha256
      });
    } catch (reason) {
      if (!this._warned) {
        this._warned = true;
        console.warn('jupyter-events-ext: cannot store a snapshot', reason);
      }
      this._emitter.emit('snapshots', 'notebookSnapshot', {
        ...fields,
        status: 'not-stored'
      });
    }
  }

  private _warned = false;
}

export namespace SnapshotCapture {
  /**
   * The command that snapshots the notebook in focus now: what an operator
   * binds to another moment than a save (a shortcut, a menu, another
   * extension's action). Enabled while snapshots are on.
   */
  export const COMMAND = 'jupyter-events-ext:snapshot-notebook';

  /**
   * Add the snapshot command.
   */
  export function addCommand(options: {
    commands: CommandRegistry;
    shell: JupyterFrontEnd.IShell | null;
    snapshots: SnapshotCapture;
    enabled: () => boolean;
    translator?: ITranslator | null;
  }): IDisposable {
    const trans = (options.translator ?? nullTranslator).load(
      'jupyter_events_ext'
    );
    const current = () => {
      const widget = options.shell?.currentWidget ?? null;
      return widget instanceof NotebookPanel ? widget : null;
    };
    return options.commands.addCommand(COMMAND, {
      label: trans.__('Snapshot This Notebook'),
      caption: trans.__(
        "Send this notebook to the server's snapshot store and record its id and hash"
      ),
      isEnabled: () => options.enabled() && current() !== null,
      execute: async () => {
        const panel = current();
        if (panel) {
          await options.snapshots.take(panel, 'command');
        }
      }
    });
  }

  /**
   * A notebook's content without outputs or execution counts.
   */
  export function withoutOutputs(
    content: PartialJSONObject
  ): PartialJSONObject {
    const cells = Array.isArray(content.cells) ? content.cells : [];
    return {
      ...content,
      cells: cells.map(cell => {
        const copy = { ...(cell as PartialJSONObject) };
        if (copy.cell_type === 'code') {
          copy.outputs = [];
          copy.execution_count = null;
        }
        return copy;
      })
    };
  }
}
