import type { ICellModel } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { IObservableList } from '@jupyterlab/observables';
import type { JSONObject } from '@lumino/coreutils';

import type { CaptureEmitter } from './emitter';

/**
 * Cell edits, one event per burst: a burst ends when the cell has been left
 * unedited for `cellEditIdleMs`. Counts only (characters added and removed,
 * the source length after); the text inserted only when operators opt in,
 * capped.
 */
export class EditCapture {
  constructor(private _emitter: CaptureEmitter) {}

  /**
   * Follow the edits of a notebook's cells, those added later too.
   */
  watch(panel: NotebookPanel): void {
    const model = panel.content.model;
    if (!model) {
      return;
    }
    for (let i = 0; i < model.cells.length; i++) {
      this._watchCell(panel, model.cells.get(i));
    }
    model.cells.changed.connect(
      (_, change: IObservableList.IChangedArgs<ICellModel>) => {
        if (change.type === 'add') {
          change.newValues.forEach(cell => this._watchCell(panel, cell));
        } else if (change.type === 'remove') {
          // The burst of a cell deleted is recorded at once (the list no
          // longer says which cells it removed: those it no longer holds).
          const present = new Set<ICellModel>();
          for (let i = 0; i < model.cells.length; i++) {
            present.add(model.cells.get(i));
          }
          for (const [cell, burst] of this._bursts) {
            if (burst.panel === panel && !present.has(cell)) {
              this._flush(cell);
            }
          }
        }
      },
      this
    );
    panel.disposed.connect(() => {
      for (let i = 0; i < model.cells.length; i++) {
        this._flush(model.cells.get(i));
      }
    }, this);
  }

  /**
   * Record every burst not yet recorded (the capture stops).
   */
  flushAll(): void {
    [...this._bursts.keys()].forEach(cell => this._flush(cell));
  }

  private _watchCell(panel: NotebookPanel, cell: ICellModel): void {
    if (this._watched.has(cell)) {
      return;
    }
    this._watched.add(cell);
    cell.sharedModel.changed.connect((_, change) => {
      const delta = change.sourceChange;
      if (!delta || !this._emitter.capturing('cellEdits')) {
        return;
      }
      if (this._emitter.optedOut(panel.context)) {
        return;
      }
      let burst = this._bursts.get(cell);
      const fresh = !burst;
      if (!burst) {
        burst = {
          panel,
          id: cell.id,
          type: cell.type,
          added: 0,
          removed: 0,
          text: '',
          length: 0,
          timer: null
        };
        this._bursts.set(cell, burst);
      }
      let net = 0;
      for (const part of delta) {
        if (typeof part.insert === 'string') {
          net += part.insert.length;
          burst.added += part.insert.length;
          if (this._emitter.config.cellEditText) {
            // Kept to the cap as it comes, so a long paste is not held whole.
            const room =
              this._emitter.config.cellEditTextMax - burst.text.length;
            if (room > 0) {
              burst.text += part.insert.slice(0, room);
            }
          }
        } else if (typeof part.delete === 'number') {
          net -= part.delete;
          burst.removed += part.delete;
        }
      }
      // Read once per burst, then kept by the deltas: a deleted cell has no source.
      burst.length = fresh
        ? cell.sharedModel.getSource().length
        : burst.length + net;
      if (burst.timer !== null) {
        clearTimeout(burst.timer);
      }
      burst.timer = setTimeout(
        () => this._flush(cell),
        this._emitter.config.cellEditIdleMs
      );
    }, this);
  }

  private _flush(cell: ICellModel): void {
    const burst = this._bursts.get(cell);
    if (!burst) {
      return;
    }
    this._bursts.delete(cell);
    if (burst.timer !== null) {
      clearTimeout(burst.timer);
    }
    const { panel } = burst;
    if (
      !this._emitter.capturing('cellEdits') ||
      this._emitter.optedOut(panel.context)
    ) {
      return;
    }
    const cells = panel.content.model?.cells;
    let index = -1;
    for (let i = 0; cells && i < cells.length; i++) {
      if (cells.get(i) === cell) {
        index = i;
        break;
      }
    }
    const data: JSONObject = {
      cell_id: burst.id,
      cell_type: burst.type,
      ...this._emitter.notebookFields(panel.context),
      chars_added: burst.added,
      chars_removed: burst.removed,
      source_length: burst.length
    };
    if (index >= 0) {
      data.index = index;
    }
    if (this._emitter.config.cellEditText) {
      data.text_added = burst.text;
      data.text_truncated = burst.added > burst.text.length;
    }
    this._emitter.emit('cellEdits', 'cellEdit', data);
  }

  private _bursts = new Map<
    ICellModel,
    {
      panel: NotebookPanel;
      id: string;
      type: string;
      added: number;
      removed: number;
      text: string;
      length: number;
      timer: ReturnType<typeof setTimeout> | null;
    }
  >();
  private _watched = new WeakSet<ICellModel>();
}
