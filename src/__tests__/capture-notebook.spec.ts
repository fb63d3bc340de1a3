import {
  NotebookActions,
  type NotebookPanel,
  NotebookModel
} from '@jupyterlab/notebook';
import {
  initNotebookContext,
  NBTestUtils
} from '@jupyterlab/notebook/lib/testutils';
import { ServiceManagerMock } from '@jupyterlab/services/lib/testutils';
import { CommandRegistry } from '@lumino/commands';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { ActionCapture } from '../capture/capture';
import { NotebookOptOut } from '../capture/optout';
import type { IEventsClient } from '../tokens';
import { RecordingClient } from './recordingclient';
import { FakeServer } from './fakeserver';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/**
 * Only the kinds a test is about, paths as is.
 */
function only(...kinds: ActionCapture.Kind[]): Partial<ActionCapture.IConfig> {
  const config: Partial<ActionCapture.IConfig> = { pathMode: 'as-is' };
  for (const kind of ActionCapture.KINDS) {
    config[kind] = kinds.includes(kind);
  }
  return config;
}

describe('ActionCapture in a notebook', () => {
  let client: RecordingClient;
  let commands: CommandRegistry;
  let opener: { opened: Signal<any, any> };
  let shell: { currentWidget: any; currentChanged: Signal<any, any> };
  let capture: ActionCapture;
  let panel: NotebookPanel;

  /**
   * A real notebook panel, attached, with `cells` code cells, opened.
   */
  async function open(
    config: Partial<ActionCapture.IConfig>,
    cells = 3
  ): Promise<NotebookPanel> {
    capture = new ActionCapture({
      client: client as unknown as IEventsClient,
      commands,
      opener: opener as any,
      shell: shell as any,
      config
    });
    const context = await initNotebookContext({
      path: 'work/nb.ipynb',
      manager: new ServiceManagerMock()
    });
    panel = NBTestUtils.createNotebookPanel(context);
    const model = panel.content.model as NotebookModel;
    model.sharedModel.insertCells(
      0,
      Array.from({ length: cells }, (_, i) => ({
        cell_type: 'code' as const,
        source: `x = ${i}`,
        id: `cell-${i}`
      }))
    );
    // The context starts with one empty cell: only ours remain.
    model.sharedModel.deleteCellRange(cells, model.sharedModel.cells.length);
    Widget.attach(panel, document.body);
    shell.currentWidget = panel;
    opener.opened.emit(panel);
    await context.ready;
    await sleep(0);
    client.take();
    return panel;
  }

  beforeEach(() => {
    client = new RecordingClient();
    commands = new CommandRegistry();
    opener = { opened: new Signal({}) };
    shell = { currentWidget: null, currentChanged: new Signal({}) };
  });

  afterEach(() => {
    capture?.dispose();
    if (panel && !panel.isDisposed) {
      panel.context.dispose();
      panel.dispose();
    }
  });

  describe('cell edits', () => {
    it('records one event per burst, counts only, once the cell rests', async () => {
      await open({ ...only('cellEdits'), cellEditIdleMs: 80 });
      const cell = panel.content.model!.cells.get(1);
      cell.sharedModel.updateSource(5, 5, '42');
      await sleep(30);
      cell.sharedModel.updateSource(0, 1, 'yy');
      expect(client.take()).toEqual([]);
      await sleep(150);
      expect(client.take()).toEqual([
        {
          schema: 'cell-edit',
          data: {
            cell_id: 'cell-1',
            cell_type: 'code',
            index: 1,
            notebook: 'work/nb.ipynb',
            path_mode: 'as-is',
            chars_added: 4,
            chars_removed: 1,
            source_length: 'yy = 142'.length
          }
        }
      ]);
      expect(cell.sharedModel.getSource()).toBe('yy = 142');
    });

    it('records the text inserted, capped, only when opted in', async () => {
      await open({
        ...only('cellEdits'),
        cellEditIdleMs: 20,
        cellEditText: true,
        cellEditTextMax: 5
      });
      const cell = panel.content.model!.cells.get(0);
      cell.sharedModel.updateSource(0, 0, 'secret_value = 1\n');
      await sleep(60);
      const [event] = client.take();
      expect(event.data).toMatchObject({
        chars_added: 17,
        text_added: 'secre',
        text_truncated: true
      });
    });

    it('records each cell on its own, and a burst of a deleted cell at once', async () => {
      await open({ ...only('cellEdits'), cellEditIdleMs: 5000 });
      const cells = panel.content.model!.cells;
      cells.get(0).sharedModel.updateSource(0, 0, 'a');
      cells.get(2).sharedModel.updateSource(0, 0, 'bb');
      panel.content.model!.sharedModel.deleteCell(2);
      expect(
        client.take().map(e => [e.data.cell_id, e.data.chars_added])
      ).toEqual([['cell-2', 2]]);
      capture.dispose();
      expect(
        client.take().map(e => [e.data.cell_id, e.data.chars_added])
      ).toEqual([['cell-0', 1]]);
    });
  });

  describe('notebook structure', () => {
    it('records cells added, moved, type-changed and deleted, with index and id', async () => {
      await open(only('notebookStructure'));
      const notebook = panel.content;
      const shared = notebook.model!.sharedModel;
      shared.insertCell(1, { cell_type: 'markdown', id: 'new-1', source: '' });
      await sleep(0);
      shared.moveCell(0, 2);
      await sleep(0);
      notebook.activeCellIndex = 0;
      NotebookActions.changeCellType(notebook, 'raw');
      await sleep(0);
      shared.deleteCell(3);
      await sleep(0);
      const events = client.take().map(e => {
        // The path fields are the same on each.
        expect(e.data).toMatchObject({
          notebook: 'work/nb.ipynb',
          path_mode: 'as-is'
        });
        const rest = { ...e.data };
        delete rest.notebook;
        delete rest.path_mode;
        return [e.schema, rest];
      });
      expect(events).toEqual([
        [
          'notebook-structure',
          { action: 'added', cell_id: 'new-1', cell_type: 'markdown', index: 1 }
        ],
        [
          'notebook-structure',
          {
            action: 'moved',
            cell_id: 'cell-0',
            cell_type: 'code',
            from_index: 0,
            index: 2
          }
        ],
        [
          'notebook-structure',
          {
            action: 'type-changed',
            cell_id: 'new-1',
            cell_type: 'raw',
            from_type: 'markdown',
            index: 0
          }
        ],
        [
          'notebook-structure',
          { action: 'deleted', cell_id: 'cell-2', cell_type: 'code', index: 3 }
        ]
      ]);
    });

    it('gives a move its indices before and after, up or down, one cell or several', async () => {
      await open(only('notebookStructure'), 5);
      const shared = panel.content.model!.sharedModel;
      shared.moveCell(3, 1);
      await sleep(0);
      shared.moveCells(0, 3, 2);
      await sleep(0);
      const order = shared.cells.map(cell => cell.id);
      const events = client.take().map(e => e.data);
      expect(events.map(e => [e.cell_id, e.from_index])).toEqual([
        ['cell-3', 3],
        ['cell-0', 0],
        ['cell-3', 1]
      ]);
      // Where each cell really is now.
      expect(events[0].index).toBe(1);
      expect(
        events.slice(1).map(e => order.indexOf(e.cell_id as string))
      ).toEqual(events.slice(1).map(e => e.index));
      expect(order).not.toEqual([
        'cell-0',
        'cell-3',
        'cell-1',
        'cell-2',
        'cell-4'
      ]);
    });

    it('records nothing of the cells a notebook loads with', async () => {
      await open(only('notebookStructure'), 20);
      expect(client.take()).toEqual([]);
    });
  });

  describe('attention', () => {
    it('records the active cell when it changes', async () => {
      await open(only('attention'));
      panel.content.activeCellIndex = 0;
      client.take();
      panel.content.activeCellIndex = 2;
      panel.content.activeCellIndex = 2;
      panel.content.activeCellIndex = 1;
      expect(client.take().map(e => e.data)).toEqual([
        {
          action: 'active-cell',
          cell_id: 'cell-2',
          index: 2,
          notebook: 'work/nb.ipynb',
          path_mode: 'as-is'
        },
        {
          action: 'active-cell',
          cell_id: 'cell-1',
          index: 1,
          notebook: 'work/nb.ipynb',
          path_mode: 'as-is'
        }
      ]);
    });

    it('records the notebook hidden and visible on a tab switch and on window blur', async () => {
      await open(only('attention'));
      panel.hide();
      panel.show();
      window.dispatchEvent(new Event('blur'));
      window.dispatchEvent(new Event('blur'));
      window.dispatchEvent(new Event('focus'));
      expect(client.take().map(e => [e.data.action, e.data.reason])).toEqual([
        ['hidden', 'tab'],
        ['visible', 'tab'],
        ['hidden', 'window'],
        ['visible', 'window']
      ]);
    });

    it('samples the cells in view after scrolling, at most once per period', async () => {
      await open({ ...only('attention'), attentionSampleSeconds: 0.8 }, 10);
      // jsdom lays nothing out: each cell is 100 px high, the view 250 px.
      let scrollTop = 0;
      panel.content.node.getBoundingClientRect = () =>
        ({ top: 0, bottom: 250, height: 250 }) as DOMRect;
      panel.content.widgets.forEach((cell, i) => {
        cell.node.getBoundingClientRect = () =>
          ({
            top: i * 100 - scrollTop,
            bottom: (i + 1) * 100 - scrollTop,
            height: 100
          }) as DOMRect;
      });
      const scroll = (top: number) => {
        scrollTop = top;
        panel.content.node.dispatchEvent(new Event('scroll'));
      };
      scroll(120);
      scroll(150);
      await sleep(600);
      const first = client.take();
      expect(first.map(e => e.data)).toEqual([
        {
          action: 'cells-in-view',
          first_index: 1,
          last_index: 3,
          first_cell_id: 'cell-1',
          last_cell_id: 'cell-3',
          cell_count: 10,
          notebook: 'work/nb.ipynb',
          path_mode: 'as-is'
        }
      ]);
      scroll(500);
      await sleep(600);
      // Within the period of the last sample: not yet.
      expect(client.take()).toEqual([]);
      scroll(510);
      await sleep(400);
      expect(
        client.take().map(e => [e.data.first_index, e.data.last_index])
      ).toEqual([[5, 7]]);
    });
  });

  describe('output summaries', () => {
    function executed(success: boolean) {
      const cell = panel.content.widgets[0];
      (NotebookActions.executed as Signal<any, any>).emit({
        notebook: panel.content,
        cell,
        success,
        error: success ? null : { errorName: 'KeyError' }
      });
    }

    function addOutputs() {
      const outputs = (panel.content.widgets[0].model as any).outputs;
      outputs.add({ output_type: 'stream', name: 'stdout', text: 'hello\n' });
      outputs.add({
        output_type: 'display_data',
        data: { 'text/plain': 'x', 'image/png': 'AAAA' },
        metadata: {}
      });
      outputs.add({
        output_type: 'error',
        ename: 'KeyError',
        evalue: "'password'" + 'x'.repeat(600),
        traceback: ['\u001b[0;31mKeyError\u001b[0m', 'line 2 of the traceback']
      });
    }

    it('records output types, MIME types, the error name and a capped message, no traceback', async () => {
      await open(only('cellOutputs'));
      addOutputs();
      executed(false);
      const [event] = client.take();
      expect(event.schema).toBe('cell-outputs');
      expect(event.data).toEqual({
        cell_id: 'cell-0',
        path_mode: 'as-is',
        notebook: 'work/nb.ipynb',
        output_count: 3,
        output_types: ['stream', 'display_data', 'error'],
        mime_types: ['image/png', 'text/plain'],
        error_name: 'KeyError',
        error_message: ("'password'" + 'x'.repeat(600)).slice(0, 500)
      });
      expect(JSON.stringify(event.data)).not.toContain('hello');
    });

    it('records the traceback, without colour codes and capped, when opted in', async () => {
      await open({
        ...only('cellOutputs'),
        outputTracebacks: true,
        outputTracebackMax: 12
      });
      addOutputs();
      executed(false);
      expect(client.take()[0].data).toMatchObject({
        traceback: 'KeyError\nlin',
        traceback_truncated: true
      });
    });
  });

  describe('clipboard', () => {
    /**
     * What each clipboard event recorded: its action and counts.
     */
    function clipboardCounts() {
      return client
        .take('clipboard')
        .map(e => [e.data.action, e.data.cell_count, e.data.char_count]);
    }

    function clipboardEvent(type: string, text: string, target: Element) {
      const event = new Event(type, { bubbles: true }) as any;
      event.clipboardData = { getData: () => text };
      target.dispatchEvent(event);
    }

    it('records text copied and pasted in a cell as character counts, never the text', async () => {
      await open(only('clipboard'));
      const editor =
        panel.content.widgets[1].node.querySelector('.cm-content')!;
      clipboardEvent('copy', 'x = 1', editor);
      clipboardEvent('paste', 'import os', editor);
      const events = client.take();
      expect(events.map(e => e.data)).toEqual([
        {
          action: 'copy',
          target: 'text',
          char_count: 5,
          cell_id: 'cell-1',
          notebook: 'work/nb.ipynb',
          path_mode: 'as-is'
        },
        {
          action: 'paste',
          target: 'text',
          char_count: 9,
          cell_id: 'cell-1',
          notebook: 'work/nb.ipynb',
          path_mode: 'as-is'
        }
      ]);
      expect(JSON.stringify(events)).not.toContain('import');
    });

    it('records cells copied, cut and pasted, as counts', async () => {
      await open(only('clipboard'));
      const notebook = panel.content;
      commands.addCommand('notebook:copy-cell', {
        execute: () => NotebookActions.copy(notebook)
      });
      commands.addCommand('notebook:cut-cell', {
        execute: () => NotebookActions.cut(notebook)
      });
      notebook.activeCellIndex = 0;
      notebook.extendContiguousSelectionTo(1);
      await commands.execute('notebook:copy-cell');
      notebook.activeCellIndex = 2;
      await commands.execute('notebook:cut-cell');
      NotebookActions.paste(notebook);
      await sleep(0);
      expect(clipboardCounts()).toEqual([
        ['copy', 2, 10],
        ['cut', 1, 5],
        ['paste', 1, 5]
      ]);
    });

    it("records no counts for cells copied to the system clipboard, rather than an earlier copy's", async () => {
      await open(only('clipboard'));
      const notebook = panel.content;
      let system = false;
      commands.addCommand('notebook:copy-cell', {
        // useSystemClipboardForCells: the cells go to the system clipboard
        // (not readable here); JupyterLab's own keeps what it held.
        execute: () =>
          system
            ? notebook.recordCellClipboardInteraction('copy', [])
            : NotebookActions.copy(notebook)
      });
      notebook.activeCellIndex = 0;
      notebook.extendContiguousSelectionTo(1);
      await commands.execute('notebook:copy-cell');
      system = true;
      notebook.activeCellIndex = 2;
      await commands.execute('notebook:copy-cell');
      // Pasted from the system clipboard: how many JupyterLab says, but no
      // characters of the copy JupyterLab's clipboard still holds.
      notebook.recordCellClipboardInteraction('paste', [{}, {}] as any);
      system = false;
      await commands.execute('notebook:copy-cell');
      NotebookActions.paste(notebook);
      await sleep(0);
      expect(clipboardCounts()).toEqual([
        ['copy', 2, 10],
        ['copy', undefined, undefined],
        ['paste', 2, undefined],
        ['copy', 1, 5],
        ['paste', 1, 5]
      ]);
    });

    it('is off by default', async () => {
      await open({ pathMode: 'as-is' });
      const editor =
        panel.content.widgets[1].node.querySelector('.cm-content')!;
      clipboardEvent('copy', 'x = 1', editor);
      expect(client.take('clipboard')).toEqual([]);
    });
  });

  describe('snapshots', () => {
    let server: FakeServer;
    const digest = 'ab'.repeat(32);

    beforeEach(async () => {
      server = await FakeServer.start();
      client.serverSettings = server.settings;
    });

    afterEach(() => server.close());

    it('sends the notebook on save, without outputs, and records only its id and hash', async () => {
      const posted: string[] = [];
      server.override = (route, method) => {
        if (route === 'snapshots') {
          posted.push(method);
          return {
            status: 201,
            body: JSON.stringify({ id: digest, sha256: digest, size: 1 })
          };
        }
      };
      await open({ ...only('snapshots'), snapshotMaxBytes: 100000 });
      const cell = panel.content.widgets[0].model as any;
      cell.outputs.add({ output_type: 'stream', name: 'stdout', text: 'out' });
      (panel.context.saveState as Signal<any, string>).emit('completed');
      while (client.events.length === 0) {
        await sleep(5);
      }
      const { SnapshotCapture } = await import('../capture/snapshots');
      const sent = JSON.stringify(
        SnapshotCapture.withoutOutputs(panel.context.model.toJSON() as any)
      );
      expect(posted).toEqual(['POST']);
      expect(client.take()).toEqual([
        {
          schema: 'notebook-snapshot',
          data: {
            status: 'stored',
            trigger: 'save',
            outputs_included: false,
            size_bytes: new TextEncoder().encode(sent).length,
            snapshot_id: digest,
            sha256: digest,
            notebook: 'work/nb.ipynb',
            path_mode: 'as-is'
          }
        }
      ]);
      expect(sent).not.toContain('"out"');
    });

    it('takes one when its command runs, with the trigger said', async () => {
      server.override = route =>
        route === 'snapshots'
          ? {
              status: 201,
              body: JSON.stringify({ id: digest, sha256: digest, size: 1 })
            }
          : undefined;
      await open(only('cellEdits'));
      const id = 'jupyter-events-ext:snapshot-notebook';
      expect(commands.isEnabled(id)).toBe(false);
      capture.configure({ snapshots: true });
      expect(commands.isEnabled(id)).toBe(true);
      await commands.execute(id);
      expect(client.take().map(e => [e.data.trigger, e.data.status])).toEqual([
        ['command', 'stored']
      ]);
    });

    it('sends nothing over the size cap, and says so', async () => {
      const posted: string[] = [];
      server.override = route => {
        posted.push(route);
        return undefined;
      };
      await open({ ...only('snapshots'), snapshotMaxBytes: 10 });
      (panel.context.saveState as Signal<any, string>).emit('completed');
      await sleep(20);
      expect(client.take().map(e => e.data.status)).toEqual(['too-large']);
      expect(posted).toEqual([]);
    });

    it('is off by default', async () => {
      await open({ pathMode: 'as-is' });
      (panel.context.saveState as Signal<any, string>).emit('completed');
      await sleep(20);
      expect(client.take('notebook-snapshot')).toEqual([]);
    });
  });

  describe('per-notebook opt-out', () => {
    it('records nothing about a notebook whose metadata opts out; the toggle sets it', async () => {
      await open({ pathMode: 'as-is', cellEditIdleMs: 10, clipboard: true });
      expect(commands.isToggled(NotebookOptOut.COMMAND)).toBe(true);
      await commands.execute(NotebookOptOut.COMMAND);
      expect(panel.content.model!.getMetadata('jupyter_events_ext')).toEqual({
        capture: false
      });
      expect(commands.isToggled(NotebookOptOut.COMMAND)).toBe(false);
      client.take();

      const shared = panel.content.model!.sharedModel;
      shared.getCell(0).updateSource(0, 0, 'zz');
      shared.insertCell(0, { cell_type: 'code', id: 'hidden', source: '' });
      panel.content.activeCellIndex = 2;
      panel.hide();
      panel.show();
      (panel.context.saveState as Signal<any, string>).emit('completed');
      await sleep(40);
      (NotebookActions.executed as Signal<any, any>).emit({
        notebook: panel.content,
        cell: panel.content.widgets[1],
        success: true
      });
      commands.addCommand('test:one', { execute: () => undefined });
      await commands.execute('test:one');
      expect(client.take()).toEqual([]);

      await commands.execute(NotebookOptOut.COMMAND);
      expect(panel.content.model!.getMetadata('jupyter_events_ext')).toBe(
        undefined
      );
      await commands.execute('test:one');
      expect(client.take('command').length).toBeGreaterThan(0);
    });

    it('is ignored, and the toggle disabled, when operators do not allow it', async () => {
      await open({ ...only('notebookStructure'), notebookOptOut: false });
      NotebookOptOut.setOptedOut(panel.content.model!, true);
      expect(commands.isEnabled(NotebookOptOut.COMMAND)).toBe(false);
      panel.content.model!.sharedModel.deleteCell(0);
      await sleep(0);
      expect(client.take().map(e => e.data.action)).toEqual(['deleted']);
      capture.configure({ notebookOptOut: true });
      expect(commands.isEnabled(NotebookOptOut.COMMAND)).toBe(true);
      panel.content.model!.sharedModel.deleteCell(0);
      await sleep(0);
      expect(client.take()).toEqual([]);
    });
  });
});
