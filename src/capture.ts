import type { ILabShell } from '@jupyterlab/application';
import type { ISessionContext } from '@jupyterlab/apputils';
import type { IDocumentWidgetOpener } from '@jupyterlab/docmanager';
import type {
  DocumentRegistry,
  IDocumentWidget
} from '@jupyterlab/docregistry';
import {
  type Notebook,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';
import type { IConsoleTracker } from '@jupyterlab/console';
import type { Kernel } from '@jupyterlab/services';
import type { CommandRegistry } from '@lumino/commands';
import type { JSONObject } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import { Signal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils';
import type { IEventsClient } from './tokens';

/**
 * Records what a person does in JupyterLab as events of the UI-action schemas:
 * commands executed, documents opened, saved and closed, notebook cells run,
 * kernels started, restarted, interrupted and shut down, and the document in
 * focus.
 *
 * It never records cell source, outputs, the clipboard or the environment;
 * command arguments only for allowlisted commands; paths as configured.
 * Changing the configuration applies to the next action.
 */
export class ActionCapture implements IDisposable {
  /**
   * Start capturing.
   */
  constructor(options: ActionCapture.IOptions) {
    this._client = options.client;
    this._docRegistry = options.docRegistry ?? null;
    this._shell = options.shell ?? null;
    this.configure(options.config ?? {});

    options.commands.commandExecuted.connect(this._onCommand, this);
    options.opener?.opened.connect(this._onOpened, this);
    options.shell?.currentChanged.connect(this._onCurrentChanged, this);
    // A console has no document: its kernel events carry no path.
    options.consoles?.forEach(panel =>
      this._watchSession(panel.sessionContext, () => undefined)
    );
    options.consoles?.widgetAdded.connect(
      (_, panel) => this._watchSession(panel.sessionContext, () => undefined),
      this
    );
    NotebookActions.executionScheduled.connect(this._onScheduled, this);
    NotebookActions.executed.connect(this._onExecuted, this);
  }

  /**
   * What is captured.
   */
  get config(): ActionCapture.IConfig {
    return this._config;
  }

  /**
   * Whether the capture is disposed.
   */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Change what is captured; applies to the next action.
   */
  configure(config: Partial<ActionCapture.IConfig>): void {
    this._config = { ...this._config, ...config };
    this._allow = Private.patterns(this._config.commandAllow);
    this._deny = Private.patterns(this._config.commandDeny);
    this._withArgs = Private.patterns(this._config.commandArgs);
  }

  /**
   * Stop capturing.
   */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.disconnectReceiver(this);
  }

  private _capturing(kind: ActionCapture.Kind): boolean {
    return this._config.enabled && this._config[kind];
  }

  private _emit(schema: keyof typeof ActionCapture.SCHEMAS, data: JSONObject) {
    this._client
      .emit(ActionCapture.SCHEMAS[schema], data, ActionCapture.VERSION)
      .catch(reason => {
        // Only a server without the UI-action schemas gets here: say it once.
        if (!this._warned.has(schema)) {
          this._warned.add(schema);
          console.warn(`jupyter-events-ext: cannot record "${schema}"`, reason);
        }
      });
  }

  /**
   * The path fields of an event, as the path mode says.
   */
  private _path(key: string, path: string | undefined): JSONObject {
    const mode = this._config.pathMode;
    if (path === undefined || mode === 'omitted') {
      return { path_mode: mode };
    }
    if (mode === 'as-is') {
      return { [key]: path, path_mode: mode };
    }
    if (this._pathKey === null) {
      // No key (yet): a plain hash of a guessable path would give it away.
      return { path_mode: mode };
    }
    let digest = this._digests.get(path);
    if (digest === undefined) {
      // Synchronous (unlike crypto.subtle, which plain-http hosts lack too), so an
      // event is emitted in the same task as the action it records.
      digest = bytesToHex(hmac(sha256, this._pathKey, utf8ToBytes(path)));
      this._digests.set(path, digest);
    }
    return { [key]: digest, path_mode: mode };
  }

  /**
   * Set the deployment's key (hex, from `GET jupyter-events-ext/info`) with which
   * paths are hashed (HMAC-SHA256) in the `hashed` path mode. Until it is set,
   * such paths are left out.
   */
  setPathKey(hexKey: string): void {
    this._pathKey = hexToBytes(hexKey);
    this._digests.clear();
  }

  private _documentType(context: DocumentRegistry.Context): string | undefined {
    const fileType = this._docRegistry?.getFileTypesForPath(context.path)[0];
    return fileType?.name ?? context.contentsModel?.type ?? undefined;
  }

  private _onCommand(
    _: CommandRegistry,
    { id, args }: CommandRegistry.ICommandExecutedArgs
  ): void {
    if (
      this._capturing('commands') &&
      this._allow.test(id) &&
      !this._deny.test(id)
    ) {
      const data: JSONObject = { command_id: id };
      if (this._withArgs.test(id)) {
        data.args = JSON.parse(JSON.stringify(args ?? {}));
      }
      this._emit('command', data);
    }
    // An interrupt leaves no trace on the session: the command is the action.
    if (Private.INTERRUPT_COMMANDS.has(id) && this._capturing('kernels')) {
      const found = Private.sessionOf(this._shell?.currentWidget ?? null);
      const kernel = found?.sessionContext.session?.kernel;
      if (found && kernel) {
        this._emitKernel('interrupt', kernel, found.path);
      }
    }
  }

  private _onOpened(_: IDocumentWidgetOpener, widget: IDocumentWidget): void {
    const context = widget.context;
    if (this._contexts.has(context)) {
      return;
    }
    this._contexts.add(context);
    this._emitDocument('opened', context);
    context.saveState.connect((_, state) => {
      if (state === 'completed') {
        this._emitDocument('saved', context);
      }
    }, this);
    context.disposed.connect(() => {
      this._contexts.delete(context);
      this._emitDocument('closed', context);
    }, this);
    this._watchSession(context.sessionContext, () => context.localPath);
  }

  private _emitDocument(
    action: 'opened' | 'saved' | 'closed',
    context: DocumentRegistry.Context
  ): void {
    if (!this._capturing('documents')) {
      return;
    }
    const data: JSONObject = {
      action,
      ...this._path('path', context.localPath)
    };
    const documentType = this._documentType(context);
    if (documentType) {
      data.document_type = documentType;
    }
    this._emit('document', data);
  }

  /**
   * Kernel starts, restarts and shutdowns asked through a session context.
   */
  private _watchSession(
    sessionContext: ISessionContext,
    path: () => string | undefined
  ): void {
    let last: ISessionContext.KernelDisplayStatus | null = null;
    sessionContext.statusChanged.connect((_, status) => {
      // The session context and then its kernel both say `restarting`.
      if (status !== last && this._capturing('kernels')) {
        const kernel = sessionContext.session?.kernel;
        if (kernel && status === 'restarting') {
          this._emitKernel('restart', kernel, path());
        } else if (kernel && status === 'terminating') {
          this._emitKernel('shutdown', kernel, path());
        }
      }
      last = status;
    }, this);
    sessionContext.kernelChanged.connect((_, { oldValue, newValue }) => {
      // A restart emits the same kernel as old and new value.
      if (newValue && newValue !== oldValue && this._capturing('kernels')) {
        this._emitKernel('start', newValue, path());
      }
    }, this);
  }

  private _emitKernel(
    action: 'start' | 'restart' | 'interrupt' | 'shutdown',
    kernel: Kernel.IKernelConnection,
    path: string | undefined
  ): void {
    this._emit('kernel', {
      action,
      kernel_name: kernel.name,
      kernel_id: kernel.id,
      ...this._path('notebook', path)
    });
  }

  private _onScheduled(
    _: unknown,
    { notebook, cell }: { notebook: Notebook; cell: { model: any } }
  ): void {
    if (cell.model.type !== 'code') {
      return;
    }
    this._started.set(cell.model, performance.now());
    if (this._capturing('cellExecution')) {
      this._emit('cellExecution', {
        phase: 'started',
        cell_id: cell.model.id,
        ...this._notebookFields(notebook)
      });
    }
  }

  private _onExecuted(
    _: unknown,
    {
      notebook,
      cell,
      success,
      error
    }: {
      notebook: Notebook;
      cell: { model: any };
      success: boolean;
      error?: { errorName: string } | null;
    }
  ): void {
    if (cell.model.type !== 'code') {
      return;
    }
    const started = this._started.get(cell.model);
    this._started.delete(cell.model);
    if (!this._capturing('cellExecution')) {
      return;
    }
    const count = cell.model.executionCount;
    const data: JSONObject = {
      phase: 'finished',
      cell_id: cell.model.id,
      ...this._notebookFields(notebook),
      execution_count: typeof count === 'number' ? count : null,
      success
    };
    if (!success && error?.errorName) {
      data.error_name = error.errorName;
    }
    if (started !== undefined) {
      data.duration_ms = Math.round((performance.now() - started) * 10) / 10;
    }
    this._emit('cellExecution', data);
  }

  private _notebookFields(notebook: Notebook): JSONObject {
    const panel = notebook.parent;
    if (!(panel instanceof NotebookPanel)) {
      return {};
    }
    const data = this._path('notebook', panel.context.localPath);
    const kernelName = panel.sessionContext.session?.kernel?.name;
    if (kernelName) {
      data.kernel_name = kernelName;
    }
    return data;
  }

  private _onCurrentChanged(
    _: ILabShell,
    { newValue }: ILabShell.IChangedArgs
  ): void {
    const context = Private.contextOf(newValue);
    if (context === this._focused) {
      return;
    }
    this._focused = context;
    if (!this._capturing('activeDocument')) {
      return;
    }
    const data: JSONObject = context
      ? this._path('path', context.localPath)
      : { path_mode: this._config.pathMode };
    const documentType = context ? this._documentType(context) : undefined;
    if (documentType) {
      data.document_type = documentType;
    }
    this._emit('activeDocument', data);
  }

  private _allow = /$^/;
  private _client: IEventsClient;
  private _config: ActionCapture.IConfig = { ...ActionCapture.DEFAULT_CONFIG };
  private _contexts = new Set<DocumentRegistry.Context>();
  private _deny = /$^/;
  private _digests = new Map<string, string>();
  private _pathKey: Uint8Array | null = null;
  private _docRegistry: DocumentRegistry | null;
  private _focused: DocumentRegistry.Context | null = null;
  private _isDisposed = false;
  private _shell: ILabShell | null;
  private _started = new WeakMap<object, number>();
  private _warned = new Set<string>();
  private _withArgs = /$^/;
}

/**
 * The statics of the action capture.
 */
export namespace ActionCapture {
  /**
   * How paths are recorded.
   */
  export type PathMode = 'as-is' | 'hashed' | 'omitted';

  /**
   * The kinds of actions, each on or off.
   */
  export type Kind =
    'commands' | 'documents' | 'cellExecution' | 'kernels' | 'activeDocument';

  /**
   * What is captured (the settings of the same names).
   */
  export interface IConfig extends Record<Kind, boolean> {
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
     * Command ids whose arguments are recorded.
     */
    commandArgs: string[];
    /**
     * How paths are recorded.
     */
    pathMode: PathMode;
  }

  /**
   * The options of the capture.
   */
  export interface IOptions {
    /**
     * The client the events go through.
     */
    client: IEventsClient;
    /**
     * The application's commands.
     */
    commands: CommandRegistry;
    /**
     * The document opener, to see documents opened (and then saved and closed).
     */
    opener?: IDocumentWidgetOpener | null;
    /**
     * The document registry, to name the type of a document.
     */
    docRegistry?: DocumentRegistry | null;
    /**
     * The shell, to see which document is in focus.
     */
    shell?: ILabShell | null;
    /**
     * The console tracker, to see kernels started, restarted and shut down in consoles.
     */
    consoles?: IConsoleTracker | null;
    /**
     * What is captured; {@link DEFAULT_CONFIG} when omitted.
     */
    config?: Partial<IConfig>;
  }

  /**
   * The settings' defaults.
   */
  export const DEFAULT_CONFIG: IConfig = {
    enabled: true,
    commands: true,
    documents: true,
    cellExecution: true,
    kernels: true,
    activeDocument: true,
    commandAllow: ['*'],
    // Runs on every change of focus, so it would drown the commands people run.
    commandDeny: ['helpmenu:get-kernel'],
    commandArgs: [],
    pathMode: 'hashed'
  };

  /**
   * The version of the UI-action schemas these events follow.
   */
  export const VERSION = 1;

  /**
   * The UI-action schemas the server ships.
   */
  export const SCHEMAS = {
    command: 'https://events.jupyter.org/jupyter_events_ext/command/v1',
    document: 'https://events.jupyter.org/jupyter_events_ext/document/v1',
    cellExecution:
      'https://events.jupyter.org/jupyter_events_ext/cell-execution/v1',
    kernel: 'https://events.jupyter.org/jupyter_events_ext/kernel/v1',
    activeDocument:
      'https://events.jupyter.org/jupyter_events_ext/active-document/v1'
  } as const;
}

namespace Private {
  /**
   * The commands that interrupt the current kernel.
   */
  export const INTERRUPT_COMMANDS = new Set([
    'notebook:interrupt-kernel',
    'console:interrupt-kernel',
    'kernelmenu:interrupt'
  ]);

  /**
   * One expression matching any of the glob patterns (`*` is any characters).
   */
  export function patterns(globs: ReadonlyArray<string>): RegExp {
    if (globs.length === 0) {
      return /$^/;
    }
    const alternatives = globs.map(glob =>
      glob
        .split('*')
        .map(part => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')
    );
    return new RegExp(`^(?:${alternatives.join('|')})$`);
  }

  /**
   * The document context of a widget, if it shows a document.
   */
  export function contextOf(
    widget: Widget | null
  ): DocumentRegistry.Context | null {
    const context = (widget as Partial<IDocumentWidget> | null)?.context;
    return context && typeof context.localPath === 'string' ? context : null;
  }

  /**
   * The session of the widget in focus (a notebook, a console), if any.
   */
  export function sessionOf(
    widget: Widget | null
  ): { sessionContext: ISessionContext; path?: string } | null {
    const context = contextOf(widget);
    if (context) {
      return {
        sessionContext: context.sessionContext,
        path: context.localPath
      };
    }
    // A console: no document, so no path to record.
    const sessionContext = (widget as { sessionContext?: ISessionContext })
      ?.sessionContext;
    return sessionContext ? { sessionContext } : null;
  }
}
