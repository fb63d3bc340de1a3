import { createHash, createHmac } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';

import { NotebookActions } from '@jupyterlab/notebook';
import { CommandRegistry } from '@lumino/commands';
import { PromiseDelegate } from '@lumino/coreutils';
import { Signal } from '@lumino/signaling';

import { ActionCapture } from '../capture/capture';
import { captureConfig } from '../settings/config';
import type { IEventsClient } from '../tokens';
import { RecordingClient } from './recordingclient';

function fakeDocument(path: string) {
  const kernel = { name: 'python3', id: 'k-1' };
  const sessionContext = {
    path,
    session: { kernel },
    statusChanged: new Signal<any, string>({}),
    kernelChanged: new Signal<any, any>({})
  };
  const context = {
    path,
    localPath: path,
    contentsModel: { type: 'notebook' },
    saveState: new Signal<any, string>({}),
    disposed: new Signal<any, void>({}),
    sessionContext
  };
  return { widget: { context }, context, sessionContext, kernel };
}

const KEY = 'ab'.repeat(32);

describe('ActionCapture', () => {
  let client: RecordingClient;
  let commands: CommandRegistry;
  let opener: { opened: Signal<any, any> };
  let shell: { currentWidget: any; currentChanged: Signal<any, any> };
  let capture: ActionCapture;

  function start(config: Partial<ActionCapture.IConfig> = {}) {
    capture = new ActionCapture({
      client: client as unknown as IEventsClient,
      commands,
      opener: opener as any,
      shell: shell as any,
      config
    });
  }

  beforeEach(() => {
    client = new RecordingClient();
    commands = new CommandRegistry();
    for (const id of ['test:one', 'test:two', 'other:three']) {
      commands.addCommand(id, { execute: () => undefined });
    }
    commands.addCommand('notebook:interrupt-kernel', {
      execute: () => undefined
    });
    opener = { opened: new Signal({}) };
    shell = { currentWidget: null, currentChanged: new Signal({}) };
  });

  afterEach(() => {
    capture.dispose();
  });

  describe('commands', () => {
    it('records the command id, and arguments only for allowlisted commands', async () => {
      start({ commandArgs: ['test:t*'] });
      await commands.execute('test:one', { path: 'secret.txt' });
      await commands.execute('test:two', { n: 2 });
      expect(client.take()).toEqual([
        { schema: 'command', data: { command_id: 'test:one' } },
        { schema: 'command', data: { command_id: 'test:two', args: { n: 2 } } }
      ]);
    });

    it('records only allowed commands that are not denied', async () => {
      start({ commandAllow: ['test:*'], commandDeny: ['*:two'] });
      await commands.execute('test:one');
      await commands.execute('test:two');
      await commands.execute('other:three');
      expect(client.take().map(e => e.data.command_id)).toEqual(['test:one']);
    });

    it.each([
      ['as-is', { path: 'work/a.ipynb', paths: ['b.txt'], n: 2 }],
      [
        'hashed',
        {
          path: createHmac('sha256', Buffer.from(KEY, 'hex'))
            .update('work/a.ipynb')
            .digest('hex'),
          paths: [
            createHmac('sha256', Buffer.from(KEY, 'hex'))
              .update('b.txt')
              .digest('hex')
          ],
          n: 2
        }
      ],
      ['omitted', { n: 2 }]
    ])(
      'treats paths in allowlisted arguments as the path mode %s says',
      async (mode, args) => {
        start({
          commandArgs: ['test:*'],
          pathMode: mode as ActionCapture.PathMode
        });
        capture.setPathKey(KEY);
        await commands.execute('test:one', {
          path: 'work/a.ipynb',
          paths: ['b.txt'],
          n: 2
        });
        expect(client.take()[0].data).toEqual({ command_id: 'test:one', args });
      }
    );

    it('finds paths under other names and at any depth', async () => {
      start({ commandArgs: ['test:*'], pathMode: 'omitted' });
      await commands.execute('test:one', {
        oldPath: 'a',
        new_path: 'b',
        options: { notebookPath: 'c', kernel: 'python3' },
        pathless: 'kept'
      });
      expect(client.take()[0].data.args).toEqual({
        options: { kernel: 'python3' },
        pathless: 'kept'
      });
    });

    it('treats pattern characters other than * literally', async () => {
      start({ commandAllow: ['test.one', 'test:(one)'] });
      await commands.execute('test:one');
      expect(client.take()).toEqual([]);
    });
  });

  describe('settings', () => {
    it('stops at once when capture is switched off and resumes when on', async () => {
      start();
      await commands.execute('test:one');
      capture.configure({ enabled: false });
      await commands.execute('test:one');
      const { widget } = fakeDocument('a.ipynb');
      opener.opened.emit(widget);
      expect(client.take()).toHaveLength(1);

      capture.configure({ enabled: true });
      await commands.execute('test:two');
      expect(client.take().map(e => e.data.command_id)).toEqual(['test:two']);
    });

    it('switches each kind on and off on its own', async () => {
      start({ commands: false });
      await commands.execute('test:one');
      const { widget } = fakeDocument('a.ipynb');
      opener.opened.emit(widget);
      expect(client.take().map(e => e.schema)).toEqual(['document']);

      capture.configure({ commands: true, documents: false });
      await commands.execute('test:one');
      expect(client.take().map(e => e.schema)).toEqual(['command']);
    });

    it('maps every setting of the Events page to the capture config', () => {
      const schema = JSON.parse(
        readFileSync(join(__dirname, '../../schema/plugin.json'), 'utf8')
      );
      const defaults = Object.fromEntries(
        Object.entries<any>(schema.properties).map(([k, p]) => [k, p.default])
      );
      expect(captureConfig(defaults)).toEqual(ActionCapture.DEFAULT_CONFIG);
      expect(captureConfig({ ...defaults, capture: false }).enabled).toBe(
        false
      );
      // Every kind is a switch the operator can lock.
      for (const kind of ActionCapture.KINDS) {
        expect(schema.properties[kind].type).toBe('boolean');
        expect(schema.properties.locked.items.enum).toContain(kind);
      }
      expect(schema['jupyter.lab.toolbars'].Notebook[0].command).toBe(
        'jupyter-events-ext:toggle-notebook-capture'
      );
    });

    it('has defaults that match the settings schema, every property titled and described', () => {
      const schema = JSON.parse(
        readFileSync(join(__dirname, '../../schema/plugin.json'), 'utf8')
      );
      for (const [name, property] of Object.entries<any>(schema.properties)) {
        expect([name, typeof property.title]).toEqual([name, 'string']);
        expect([name, typeof property.description]).toEqual([name, 'string']);
        expect(property).toHaveProperty('default');
      }
      const defaults = Object.fromEntries(
        Object.entries<any>(schema.properties).map(([k, p]) => [k, p.default])
      );
      const { capture: enabled, ...rest } = defaults;
      expect({ enabled, ...rest }).toMatchObject(ActionCapture.DEFAULT_CONFIG);
    });
  });

  describe('rate limits', () => {
    it('records at most the limit of one kind per minute and counts the drops', async () => {
      jest.useFakeTimers({ now: 1_000_000 });
      try {
        start({ rateLimit: 3 });
        const heard: unknown[] = [];
        capture.dropsChanged.connect((_, drops) => heard.push({ ...drops }));
        for (let i = 0; i < 5; i++) {
          await commands.execute('test:one');
        }
        // Another kind has its own allowance.
        opener.opened.emit(fakeDocument('a.ipynb').widget);
        expect(client.take().map(e => e.schema)).toEqual([
          'command',
          'command',
          'command',
          'document'
        ]);
        expect(capture.drops).toEqual({ commands: 2 });
        // Told once a second at most, with every drop so far.
        expect(heard).toEqual([]);
        jest.advanceTimersByTime(1000);
        expect(heard).toEqual([{ commands: 2 }]);

        // A sliding minute: the first admitted leave the window after 60 s.
        jest.advanceTimersByTime(59_001);
        await commands.execute('test:one');
        expect(client.take('command')).toHaveLength(1);
        expect(capture.drops).toEqual({ commands: 2 });
      } finally {
        jest.useRealTimers();
      }
    });
  });

  describe('drop reports', () => {
    it('records what the rate limit dropped, per kind, at most every 10 s', async () => {
      const t0 = Date.parse('2026-11-27T12:00:00.000Z');
      jest.useFakeTimers({ now: t0 });
      try {
        start({ rateLimit: 2 });
        for (let i = 0; i < 5; i++) {
          await commands.execute('test:one');
          jest.advanceTimersByTime(100);
        }
        expect(client.take('command')).toHaveLength(2);
        // Heard of 1 s after the first drop, reported 10 s later.
        jest.advanceTimersByTime(9_000);
        expect(client.take('capture-drops')).toEqual([]);
        jest.advanceTimersByTime(2_000);
        expect(client.take('capture-drops').map(e => e.data)).toEqual([
          {
            kind: 'commands',
            dropped: 3,
            rate_limit: 2,
            first: '2026-11-27T12:00:00.200Z',
            last: '2026-11-27T12:00:00.400Z'
          }
        ]);
        // Nothing more dropped: nothing more reported.
        jest.advanceTimersByTime(30_000);
        expect(client.take('capture-drops')).toEqual([]);
        // Drops later in the same minute make a report of their own.
        await commands.execute('test:one');
        await commands.execute('test:one');
        jest.advanceTimersByTime(11_000);
        expect(
          client.take('capture-drops').map(e => [e.data.kind, e.data.dropped])
        ).toEqual([['commands', 2]]);
      } finally {
        jest.useRealTimers();
      }
    });

    it('sends a waiting report when the page is hidden or the capture disposed', async () => {
      start({ rateLimit: 1 });
      await commands.execute('test:one');
      await commands.execute('test:one');
      window.dispatchEvent(new Event('pagehide'));
      expect(
        client.take('capture-drops').map(e => [e.data.kind, e.data.dropped])
      ).toEqual([['commands', 1]]);
      await commands.execute('test:one');
      capture.dispose();
      expect(
        client.take('capture-drops').map(e => [e.data.kind, e.data.dropped])
      ).toEqual([['commands', 1]]);
    });

    it('reports nothing once capture is off', async () => {
      jest.useFakeTimers();
      try {
        start({ rateLimit: 1 });
        await commands.execute('test:one');
        await commands.execute('test:one');
        capture.configure({ enabled: false });
        jest.advanceTimersByTime(11_000);
        expect(client.take('capture-drops')).toEqual([]);
      } finally {
        jest.useRealTimers();
      }
    });
  });

  describe('documents and paths', () => {
    it.each([
      ['as-is', { path: 'work/a.ipynb' }],
      [
        'hashed',
        {
          path: createHmac('sha256', Buffer.from(KEY, 'hex'))
            .update('work/a.ipynb')
            .digest('hex')
        }
      ],
      ['omitted', {}]
    ])('records opened, saved and closed with the path %s', (mode, path) => {
      start({ pathMode: mode as ActionCapture.PathMode });
      capture.setPathKey(KEY);
      const { widget, context } = fakeDocument('work/a.ipynb');
      opener.opened.emit(widget);
      opener.opened.emit(widget);
      context.saveState.emit('started');
      context.saveState.emit('completed');
      context.disposed.emit();
      const expected = (action: string) => ({
        schema: 'document',
        data: { action, ...path, path_mode: mode, document_type: 'notebook' }
      });
      expect(client.take()).toEqual([
        expected('opened'),
        expected('saved'),
        expected('closed')
      ]);
    });

    it('leaves a hashed path out until it has the deployment key', () => {
      start({ pathMode: 'hashed' });
      const { widget } = fakeDocument('homework1.ipynb');
      opener.opened.emit(widget);
      capture.setPathKey(KEY);
      opener.opened.emit(fakeDocument('homework1.ipynb').widget);
      const [before, after] = client.take().map(event => event.data);
      expect(before).toEqual({
        action: 'opened',
        path_mode: 'hashed',
        document_type: 'notebook'
      });
      // Keyed: not the plain SHA-256 anyone could compute from a guessed name.
      const plain = createHash('sha256')
        .update('homework1.ipynb')
        .digest('hex');
      expect(after.path).toMatch(/^[0-9a-f]{64}$/);
      expect(after.path).not.toEqual(plain);
    });

    it('hashes the same path differently under another key', () => {
      start({ pathMode: 'hashed' });
      capture.setPathKey(KEY);
      opener.opened.emit(fakeDocument('a.ipynb').widget);
      capture.setPathKey('cd'.repeat(32));
      opener.opened.emit(fakeDocument('a.ipynb').widget);
      const [first, second] = client.take().map(event => event.data.path);
      expect(first).not.toEqual(second);
    });

    describe('while the path policy is not known', () => {
      const hashed = (path: string) =>
        createHmac('sha256', Buffer.from(KEY, 'hex'))
          .update(path)
          .digest('hex');

      async function heldThenReleased(
        mode: ActionCapture.PathMode
      ): Promise<IEventsClient.IRecord['data'][]> {
        start({ commandArgs: ['test:*'], pathMode: 'as-is' });
        const known = new PromiseDelegate<void>();
        capture.holdPathsUntil(known.promise);
        opener.opened.emit(fakeDocument('work/a.ipynb').widget);
        await commands.execute('test:one', {
          path: 'work/a.ipynb',
          paths: ['b.txt'],
          n: 2
        });
        // Nothing goes with a path not yet treated.
        expect(client.take()).toEqual([]);
        // What the policy turns out to be, as the plugin applies it.
        capture.configure({ pathMode: mode });
        capture.setPathKey(KEY);
        known.resolve();
        await known.promise;
        await Promise.resolve();
        await Promise.resolve();
        const events = client.take();
        expect(events.map(event => event.schema)).toEqual([
          'document',
          'command'
        ]);
        return events.map(event => event.data);
      }

      it('holds what happens, then sends it with its paths as the policy says', async () => {
        const [opened, command] = await heldThenReleased('hashed');
        expect(opened).toEqual({
          action: 'opened',
          path: hashed('work/a.ipynb'),
          path_mode: 'hashed',
          document_type: 'notebook'
        });
        expect(command).toEqual({
          command_id: 'test:one',
          args: { path: hashed('work/a.ipynb'), paths: [hashed('b.txt')], n: 2 }
        });
        // Held no more: the next event goes at once.
        opener.opened.emit(fakeDocument('c.ipynb').widget);
        expect(client.take()[0].data.path).toBe(hashed('c.ipynb'));
      });

      it('sends what it holds when the page goes away (the client’s `leaving`), with paths as the policy then says', async () => {
        start({ pathMode: 'as-is' });
        capture.holdPathsUntil(new PromiseDelegate<void>().promise);
        opener.opened.emit(fakeDocument('work/a.ipynb').widget);
        expect(client.take()).toEqual([]);
        // Before the server has said, the settings model's policy is that.
        capture.configure({ pathMode: 'omitted' });
        client.leaving.emit();
        expect(client.take().map(event => event.data)).toEqual([
          { action: 'opened', path_mode: 'omitted', document_type: 'notebook' }
        ]);
        await capture.pathsReleased;
      });

      it('leaves the held paths out when the policy omits them', async () => {
        const [opened, command] = await heldThenReleased('omitted');
        expect(opened).toEqual({
          action: 'opened',
          path_mode: 'omitted',
          document_type: 'notebook'
        });
        expect(command).toEqual({ command_id: 'test:one', args: { n: 2 } });
      });
    });

    it('records the document in focus when it changes', () => {
      start({ pathMode: 'as-is' });
      const a = fakeDocument('a.ipynb');
      shell.currentChanged.emit({ newValue: a.widget });
      shell.currentChanged.emit({ newValue: a.widget });
      shell.currentChanged.emit({ newValue: { title: 'Launcher' } });
      expect(client.take()).toEqual([
        {
          schema: 'active-document',
          data: {
            path: 'a.ipynb',
            path_mode: 'as-is',
            document_type: 'notebook'
          }
        },
        { schema: 'active-document', data: { path_mode: 'as-is' } }
      ]);
    });
  });

  describe('kernels', () => {
    it('records start, restart, interrupt and shutdown asked from the UI', async () => {
      start({ pathMode: 'omitted', commands: false });
      const doc = fakeDocument('a.ipynb');
      opener.opened.emit(doc.widget);
      client.take();
      const other = { name: 'python3', id: 'k-2' };
      doc.sessionContext.kernelChanged.emit({
        oldValue: null,
        newValue: other
      });
      // A restart: the session context, then its kernel, say `restarting`.
      doc.sessionContext.statusChanged.emit('restarting');
      doc.sessionContext.statusChanged.emit('restarting');
      doc.sessionContext.statusChanged.emit('idle');
      doc.sessionContext.kernelChanged.emit({
        oldValue: doc.kernel,
        newValue: doc.kernel
      });
      shell.currentWidget = doc.widget;
      await commands.execute('notebook:interrupt-kernel');
      doc.sessionContext.statusChanged.emit('terminating');
      const kernel = (id: string) => ({
        kernel_name: 'python3',
        kernel_id: id,
        path_mode: 'omitted'
      });
      expect(client.take()).toEqual([
        { schema: 'kernel', data: { action: 'start', ...kernel('k-2') } },
        { schema: 'kernel', data: { action: 'restart', ...kernel('k-1') } },
        { schema: 'kernel', data: { action: 'interrupt', ...kernel('k-1') } },
        { schema: 'kernel', data: { action: 'shutdown', ...kernel('k-1') } }
      ]);
    });
  });

  describe('kernels in consoles', () => {
    function fakeConsole(id: string) {
      const kernel = { name: 'python3', id };
      return {
        kernel,
        sessionContext: {
          path: `console-${id}`,
          session: { kernel },
          statusChanged: new Signal<any, string>({}),
          kernelChanged: new Signal<any, any>({})
        }
      };
    }

    it('records restart, interrupt and shutdown, with no path', async () => {
      const open = fakeConsole('k-open');
      const consoles = {
        widgetAdded: new Signal<any, any>({}),
        forEach: (fn: (panel: any) => void) => [open].forEach(fn)
      };
      capture = new ActionCapture({
        client: client as unknown as IEventsClient,
        commands,
        shell: shell as any,
        consoles: consoles as any,
        config: { pathMode: 'as-is', commands: false }
      });
      const added = fakeConsole('k-added');
      consoles.widgetAdded.emit(added);
      commands.addCommand('console:interrupt-kernel', {
        execute: () => undefined
      });

      open.sessionContext.statusChanged.emit('restarting');
      shell.currentWidget = added;
      await commands.execute('console:interrupt-kernel');
      added.sessionContext.statusChanged.emit('terminating');

      const kernel = (id: string) => ({
        kernel_name: 'python3',
        kernel_id: id,
        path_mode: 'as-is'
      });
      expect(client.take()).toEqual([
        { schema: 'kernel', data: { action: 'restart', ...kernel('k-open') } },
        {
          schema: 'kernel',
          data: { action: 'interrupt', ...kernel('k-added') }
        },
        {
          schema: 'kernel',
          data: { action: 'shutdown', ...kernel('k-added') }
        }
      ]);
    });
  });

  describe('cell execution', () => {
    const notebook = { parent: null } as any;
    const cell = (type = 'code') => ({
      model: { type, id: 'cell-1', executionCount: 7 as number | null }
    });

    it('records start and finish with success, count and duration, never the source', () => {
      start();
      const code = cell();
      (NotebookActions.executionScheduled as Signal<any, any>).emit({
        notebook,
        cell: code
      });
      (NotebookActions.executed as Signal<any, any>).emit({
        notebook,
        cell: code,
        success: true,
        error: null
      });
      const [first, second] = client.take();
      expect(first).toEqual({
        schema: 'cell-execution',
        data: { phase: 'started', cell_id: 'cell-1' }
      });
      expect(second.data).toMatchObject({
        phase: 'finished',
        cell_id: 'cell-1',
        execution_count: 7,
        success: true
      });
      expect(second.data.duration_ms).toBeGreaterThanOrEqual(0);
      expect(Object.keys(second.data)).not.toContain('source');
    });

    it('records the name of the error, not its message', () => {
      start();
      const code = cell();
      code.model.executionCount = null;
      (NotebookActions.executed as Signal<any, any>).emit({
        notebook,
        cell: code,
        success: false,
        error: { errorName: 'ZeroDivisionError', message: 'division by zero' }
      });
      expect(client.take()[0].data).toEqual({
        phase: 'finished',
        cell_id: 'cell-1',
        execution_count: null,
        success: false,
        error_name: 'ZeroDivisionError'
      });
    });

    it('ignores markdown cells and stops when switched off', () => {
      start({ cellExecution: false, cellOutputs: false });
      (NotebookActions.executed as Signal<any, any>).emit({
        notebook,
        cell: cell(),
        success: true
      });
      capture.configure({ cellExecution: true });
      (NotebookActions.executed as Signal<any, any>).emit({
        notebook,
        cell: cell('markdown'),
        success: true
      });
      expect(client.take()).toEqual([]);
    });
  });

  it('stops listening when disposed, once', async () => {
    start();
    capture.dispose();
    capture.dispose();
    await commands.execute('test:one');
    (NotebookActions.executed as Signal<any, any>).emit({
      notebook: { parent: null },
      cell: { model: { type: 'code', id: 'x', executionCount: 1 } },
      success: true
    });
    expect(client.take()).toEqual([]);
    expect(capture.isDisposed).toBe(true);
  });
});
