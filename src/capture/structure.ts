import type { ICellModel } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { IObservableList } from '@jupyterlab/observables';
import type { JSONObject } from '@lumino/coreutils';

import type { CaptureEmitter } from './emitter';

/**
 * A notebook's structure changing: cells added, deleted, moved, and cell
 * types changed, with index and cell id.
 *
 * The notebook model says a move, and a type change, as a cell removed and a
 * cell of the same id inserted in one transaction: the changes of one task
 * are read together, and such pairs are told as what they are.
 */
export class StructureCapture {
  constructor(private _emitter: CaptureEmitter) {}

  /**
   * Follow a notebook's cells from now on (after it loaded: loading is no edit).
   */
  watch(panel: NotebookPanel): void {
    const model = panel.content.model;
    if (!model) {
      return;
    }
    // The list says which cells it removed only by position (they are gone):
    // a copy of its ids and types says which they were.
    const mirror: { id: string; type: string }[] = [];
    for (let i = 0; i < model.cells.length; i++) {
      const cell = model.cells.get(i);
      mirror.push({ id: cell.id, type: cell.type });
    }
    let pending: {
      before: string[];
      changes: StructureCapture.ICellChange[];
    } | null = null;
    model.cells.changed.connect(
      (_, change: IObservableList.IChangedArgs<ICellModel>) => {
        // Positions are those before and after the task's changes, not the
        // passing ones in between.
        const before = pending?.before ?? mirror.map(cell => cell.id);
        const changes = StructureCapture.apply(mirror, change);
        if (
          changes.length === 0 ||
          !this._emitter.capturing('notebookStructure')
        ) {
          return;
        }
        if (pending === null) {
          pending = { before, changes: [] };
          queueMicrotask(() => {
            const batch = pending!;
            pending = null;
            const after = mirror.map(cell => cell.id);
            this._record(
              panel,
              StructureCapture.interpret(batch.changes, batch.before, after)
            );
          });
        }
        pending.changes.push(...changes);
      },
      this
    );
  }

  private _record(panel: NotebookPanel, events: JSONObject[]): void {
    if (
      panel.isDisposed ||
      !this._emitter.capturing('notebookStructure') ||
      this._emitter.optedOut(panel.context)
    ) {
      return;
    }
    const fields = this._emitter.notebookFields(panel.context);
    for (const event of events) {
      this._emitter.emit('notebookStructure', 'notebookStructure', {
        ...event,
        ...fields
      });
    }
  }
}

export namespace StructureCapture {
  /**
   * One cell added or removed at an index.
   */
  export interface ICellChange {
    change: 'add' | 'remove';
    id: string;
    type: string;
    index: number;
  }

  /**
   * Apply a list change to the copy of the list; return the cells it added or
   * removed.
   */
  export function apply(
    mirror: { id: string; type: string }[],
    change: IObservableList.IChangedArgs<ICellModel>
  ): ICellChange[] {
    const out: ICellChange[] = [];
    const remove = (index: number, count: number) =>
      mirror
        .splice(index, count)
        .forEach((cell, offset) =>
          out.push({ change: 'remove', ...cell, index: index + offset })
        );
    const add = (index: number, cells: ReadonlyArray<ICellModel>) => {
      const entries = cells.map(cell => ({ id: cell.id, type: cell.type }));
      mirror.splice(index, 0, ...entries);
      entries.forEach((cell, offset) =>
        out.push({ change: 'add', ...cell, index: index + offset })
      );
    };
    switch (change.type) {
      case 'add':
        add(change.newIndex, change.newValues);
        break;
      case 'remove':
        remove(change.oldIndex, change.oldValues.length);
        break;
      case 'move':
      case 'set':
        remove(change.oldIndex, change.oldValues.length);
        add(change.newIndex, change.newValues);
        break;
    }
    return out;
  }

  /**
   * The events a task's cell changes make: a cell removed and one of the same
   * id added is a move (another index) or a type change (another type).
   *
   * @param before - the cell ids before the task's changes
   * @param after - the cell ids after them
   */
  export function interpret(
    changes: ICellChange[],
    before: string[],
    after: string[]
  ): JSONObject[] {
    const added = new Map<string, ICellChange>();
    const removed = new Map<string, ICellChange>();
    for (const change of changes) {
      (change.change === 'add' ? added : removed).set(change.id, change);
    }
    const indexIn = (ids: string[], change: ICellChange) => {
      const index = ids.indexOf(change.id);
      return index >= 0 ? index : change.index;
    };
    const events: JSONObject[] = [];
    for (const [id, gone] of removed) {
      const back = added.get(id);
      if (!back) {
        events.push({
          action: 'deleted',
          cell_id: id,
          cell_type: gone.type,
          index: indexIn(before, gone)
        });
        continue;
      }
      const from = indexIn(before, gone);
      const to = indexIn(after, back);
      if (back.type !== gone.type) {
        events.push({
          action: 'type-changed',
          cell_id: id,
          cell_type: back.type,
          from_type: gone.type,
          index: to
        });
      } else if (from !== to) {
        events.push({
          action: 'moved',
          cell_id: id,
          cell_type: back.type,
          from_index: from,
          index: to
        });
      }
    }
    for (const [id, change] of added) {
      if (!removed.has(id)) {
        events.push({
          action: 'added',
          cell_id: id,
          cell_type: change.type,
          index: indexIn(after, change)
        });
      }
    }
    return events;
  }
}
