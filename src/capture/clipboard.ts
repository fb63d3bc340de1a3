import { Clipboard } from '@jupyterlab/apputils';
import { type Notebook, NotebookPanel } from '@jupyterlab/notebook';
import type { CommandRegistry } from '@lumino/commands';
import type { JSONObject } from '@lumino/coreutils';

import type { CaptureEmitter } from './emitter';

/**
 * Copy, cut and paste within notebooks, as cell counts and character counts
 * only: never the text. Cells go through the notebook's commands and its
 * `cellsPasted` signal; text (in a cell's editor or outputs) through the
 * browser's clipboard events.
 */
export class ClipboardCapture {
  constructor(private _emitter: CaptureEmitter) {}

  /**
   * Follow a notebook's text clipboard events and cell pastes.
   */
  watch(panel: NotebookPanel): void {
    const notebook = panel.content;
    // Bubbling, so that the editor has put what is copied on the event first.
    const onClipboard = (event: Event) =>
      this._onText(panel, event as ClipboardEvent);
    for (const type of ClipboardCapture.TEXT_EVENTS) {
      notebook.node.addEventListener(type, onClipboard);
    }
    notebook.cellsPasted?.connect((_, { cellCount }) => {
      // The characters only of cells known to be the pasted ones: those the
      // last copy or cut recorded put on JupyterLab's clipboard.
      const cells = ClipboardCapture.clipboardCells();
      this._emit(panel, {
        action: 'paste',
        target: 'cells',
        cell_count: cellCount,
        ...(cells !== null &&
        cells === this._copied &&
        cells.length === cellCount
          ? { char_count: ClipboardCapture.characters(cells) }
          : {})
      });
    }, this);
    panel.disposed.connect(() => {
      for (const type of ClipboardCapture.TEXT_EVENTS) {
        notebook.node.removeEventListener(type, onClipboard);
      }
    }, this);
  }

  /**
   * Record cells copied or cut by the notebook's commands.
   */
  onCommand(
    _: CommandRegistry,
    { id, result }: CommandRegistry.ICommandExecutedArgs,
    current: () => unknown
  ): void {
    const action = ClipboardCapture.CELL_COMMANDS[id];
    if (action === undefined || !this._emitter.capturing('clipboard')) {
      return;
    }
    const panel = current();
    if (!(panel instanceof NotebookPanel)) {
      return;
    }
    void Promise.resolve(result)
      .then(() => {
        const notebook: Notebook = panel.content;
        // Only when the command did put cells on the clipboard.
        if (notebook.lastClipboardInteraction !== action) {
          return;
        }
        // With useSystemClipboardForCells the cells went to the system
        // clipboard, which cannot be read without asking: JupyterLab's own
        // still holds an earlier copy (the very array counted then), whose
        // counts are not these. Then the event has no counts.
        const read = ClipboardCapture.clipboardCells();
        const cells = read === this._seen ? null : read;
        this._seen = read;
        this._copied = cells;
        this._emit(panel, {
          action,
          target: 'cells',
          ...(cells
            ? {
                cell_count: cells.length,
                char_count: ClipboardCapture.characters(cells)
              }
            : {})
        });
      })
      .catch(() => undefined);
  }

  private _onText(panel: NotebookPanel, event: ClipboardEvent): void {
    const target = event.target as Element | null;
    const cellNode = target?.closest?.('.jp-Cell') ?? null;
    if (cellNode === null) {
      return;
    }
    let text = event.clipboardData?.getData('text/plain') ?? '';
    if (text === '' && event.type !== 'paste') {
      text = document.getSelection()?.toString() ?? '';
    }
    if (text === '' && event.type !== 'paste') {
      return;
    }
    const cell = panel.content.widgets.find(widget => widget.node === cellNode);
    this._emit(panel, {
      action: event.type as 'copy' | 'cut' | 'paste',
      target: 'text',
      char_count: text.length,
      ...(cell ? { cell_id: cell.model.id } : {})
    });
  }

  // What JupyterLab's clipboard held at the last copy or cut, and the cells
  // that copy or cut put there (null if they went to the system clipboard).
  private _seen: unknown = null;
  private _copied: unknown = null;

  private _emit(panel: NotebookPanel, data: JSONObject): void {
    if (
      !this._emitter.capturing('clipboard') ||
      this._emitter.optedOut(panel.context)
    ) {
      return;
    }
    this._emitter.emit('clipboard', 'clipboard', {
      ...data,
      ...this._emitter.notebookFields(panel.context)
    });
  }
}

export namespace ClipboardCapture {
  /**
   * The browser's clipboard events.
   */
  export const TEXT_EVENTS = ['copy', 'cut', 'paste'] as const;

  /**
   * The notebook commands that copy or cut cells.
   */
  export const CELL_COMMANDS: Record<string, 'copy' | 'cut' | undefined> = {
    'notebook:copy-cell': 'copy',
    'notebook:cut-cell': 'cut'
  };

  /**
   * The MIME type JupyterLab's clipboard holds cells as.
   */
  export const CELLS_MIME = 'application/vnd.jupyter.cells';

  /**
   * The cells on JupyterLab's clipboard, if any.
   */
  export function clipboardCells(): { source?: unknown }[] | null {
    const clipboard = Clipboard.getInstance();
    if (!clipboard.hasData(CELLS_MIME)) {
      return null;
    }
    const cells = clipboard.getData(CELLS_MIME);
    return Array.isArray(cells) ? cells : null;
  }

  /**
   * The characters of the cells' sources.
   */
  export function characters(cells: { source?: unknown }[]): number {
    return cells.reduce((sum, cell) => {
      const source = cell.source;
      const text = Array.isArray(source)
        ? source.join('')
        : String(source ?? '');
      return sum + text.length;
    }, 0);
  }
}
