import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { IConsoleTracker } from '@jupyterlab/console';
import type { IDocumentWidgetOpener } from '@jupyterlab/docmanager';
import type {
  DocumentRegistry,
  IDocumentWidget
} from '@jupyterlab/docregistry';
import { NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import type { ITranslator } from '@jupyterlab/translation';
import type { CommandRegistry } from '@lumino/commands';
import type { IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';

import * as Settings from '../settings/config';
import type { IEventsClient } from '../tokens';
import { AttentionCapture } from './attention';
import { ClipboardCapture } from './clipboard';
import { CommandCapture } from './commands';
import * as Config from './config';
import { DocumentCapture } from './documents';
import { DropReports } from './dropreports';
import { EditCapture } from './edits';
import { CaptureEmitter } from './emitter';
import { ExecutionCapture } from './execution';
import { KernelCapture } from './kernels';
import { NotebookOptOut } from './optout';
import { OutputCapture } from './outputs';
import { PathTreatment } from './paths';
import { RateLimiter } from './ratelimit';
import { SnapshotCapture } from './snapshots';
import { StructureCapture } from './structure';

/**
 * Records what a person does in JupyterLab as events of the UI-action schemas:
 * commands, documents, cell executions and their output summaries, kernels,
 * the document in focus, cell edits, notebook structure, attention, the
 * clipboard and notebook snapshots — each kind as the settings say.
 *
 * Privacy first: no source text, clipboard text or outputs unless operators
 * opt in, and then capped; command arguments only for allowlisted commands;
 * paths as configured; nothing about a notebook whose metadata opts out; no
 * kind beyond its rate limit. Changing the configuration applies to the next
 * action.
 */
export class ActionCapture implements IDisposable {
  /**
   * Start capturing.
   */
  constructor(options: ActionCapture.IOptions) {
    this._shell = options.shell ?? null;
    this._commands = options.commands;
    this._paths = new PathTreatment(() => this._config.pathMode);
    this._limiter = new RateLimiter<ActionCapture.Kind>(
      () => this._config.rateLimit
    );
    this._limiter.dropsChanged.connect(
      (_, drops) => this._dropsChanged.emit(drops),
      this
    );
    this._dropReports = new DropReports({
      client: options.client,
      config: () => this._config,
      limiter: this._limiter
    });
    const emitter = (this._emitter = new CaptureEmitter({
      client: options.client,
      config: () => this._config,
      paths: this._paths,
      limiter: this._limiter
    }));
    this._kernels = new KernelCapture(emitter);
    this._commandCapture = new CommandCapture(
      emitter,
      this._kernels,
      this._shell
    );
    this._documents = new DocumentCapture(emitter, options.docRegistry ?? null);
    this._execution = new ExecutionCapture(emitter);
    this._outputs = new OutputCapture(emitter);
    this._edits = new EditCapture(emitter);
    this._structure = new StructureCapture(emitter);
    this._attention = new AttentionCapture(emitter);
    this._clipboard = new ClipboardCapture(emitter);
    this._snapshots = new SnapshotCapture(
      emitter,
      options.client.serverSettings
    );
    this.configure(options.config ?? {});

    const commands = options.commands;
    commands.commandExecuted.connect(
      this._commandCapture.onExecuted,
      this._commandCapture
    );
    commands.commandExecuted.connect(
      (sender, args) =>
        this._clipboard.onCommand(
          sender,
          args,
          () => this._shell?.currentWidget ?? null
        ),
      this
    );
    this._toggle = NotebookOptOut.addCommand({
      commands,
      shell: this._shell,
      allowed: () => this._config.notebookOptOut,
      translator: options.translator
    });
    this._snapshotCommand = SnapshotCapture.addCommand({
      commands,
      shell: this._shell,
      snapshots: this._snapshots,
      enabled: () => emitter.capturing('snapshots'),
      translator: options.translator
    });
    options.opener?.opened.connect(this._onOpened, this);
    options.shell?.currentChanged?.connect(
      this._documents.onCurrentChanged,
      this._documents
    );
    // A console has no document: its kernel events carry no path.
    options.consoles?.forEach(panel =>
      this._kernels.watch(panel.sessionContext, () => undefined)
    );
    options.consoles?.widgetAdded.connect(
      (_, panel) => this._kernels.watch(panel.sessionContext, () => undefined),
      this
    );
    NotebookActions.executionScheduled.connect(
      this._execution.onScheduled,
      this._execution
    );
    NotebookActions.executed.connect(
      this._execution.onExecuted,
      this._execution
    );
    NotebookActions.executed.connect(this._outputs.onExecuted, this._outputs);
  }

  /**
   * What is captured.
   */
  get config(): ActionCapture.IConfig {
    return this._config;
  }

  /**
   * The events dropped by the rate limit so far, per kind (kinds never
   * dropped are absent).
   */
  get drops(): Readonly<Partial<Record<ActionCapture.Kind, number>>> {
    return this._limiter.drops;
  }

  /**
   * Emitted with {@link drops} when they grow, at most once a second.
   */
  get dropsChanged(): ISignal<
    this,
    Readonly<Partial<Record<ActionCapture.Kind, number>>>
  > {
    return this._dropsChanged;
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
    this._commandCapture.configure();
    // The toggle is enabled only while operators let notebooks opt out.
    for (const id of [NotebookOptOut.COMMAND, SnapshotCapture.COMMAND]) {
      if (this._commands.hasCommand(id)) {
        this._commands.notifyCommandChanged(id);
      }
    }
  }

  /**
   * Set the deployment's key (hex, from `GET jupyter-events-ext/info`) with which
   * paths are hashed (HMAC-SHA256) in the `hashed` path mode. Until it is set,
   * such paths are left out.
   */
  setPathKey(hexKey: string): void {
    this._paths.setKey(hexKey);
  }

  /**
   * Hold the paths of what is captured until the path policy in force and
   * the key are known (`known` settles), rather than leave them out: what
   * happens as the page loads (a notebook it opens) keeps its path.
   */
  holdPathsUntil(known: Promise<unknown>): void {
    this._emitter.holdPathsUntil(known);
  }

  /**
   * Settles once nothing captured is held for its paths: the path policy is
   * known, or the page left (at once when nothing was held).
   */
  get pathsReleased(): Promise<void> {
    return this._emitter.released;
  }

  /**
   * Stop capturing. Edit bursts not yet recorded are recorded now.
   */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._edits.flushAll();
    this._isDisposed = true;
    this._toggle.dispose();
    this._snapshotCommand.dispose();
    this._attention.dispose();
    this._dropReports.dispose();
    this._limiter.dispose();
    for (const receiver of [
      this,
      this._commandCapture,
      this._documents,
      this._kernels,
      this._execution,
      this._outputs,
      this._edits,
      this._structure,
      this._attention,
      this._clipboard,
      this._snapshots
    ]) {
      Signal.disconnectReceiver(receiver);
    }
    Signal.clearData(this);
  }

  private _onOpened(_: IDocumentWidgetOpener, widget: IDocumentWidget): void {
    const context = widget.context;
    if (this._contexts.has(context)) {
      return;
    }
    this._contexts.add(context);
    this._documents.watch(context);
    context.disposed.connect(() => this._contexts.delete(context), this);
    this._kernels.watch(
      context.sessionContext,
      () => context.localPath,
      () => this._isOptedOut(context)
    );
    if (widget instanceof NotebookPanel) {
      // After loading: the cells a notebook loads with are no edit.
      void context.ready.then(() => {
        if (this._isDisposed || widget.isDisposed) {
          return;
        }
        this._edits.watch(widget);
        this._structure.watch(widget);
        this._attention.watch(widget);
        this._clipboard.watch(widget);
        this._snapshots.watch(widget);
      });
    }
  }

  private _isOptedOut(context: DocumentRegistry.Context): boolean {
    return (
      this._config.notebookOptOut && NotebookOptOut.isOptedOut(context.model)
    );
  }

  private _attention: AttentionCapture;
  private _clipboard: ClipboardCapture;
  private _commandCapture: CommandCapture;
  private _config: ActionCapture.IConfig = { ...ActionCapture.DEFAULT_CONFIG };
  private _contexts = new Set<DocumentRegistry.Context>();
  private _documents: DocumentCapture;
  private _dropReports: DropReports;
  private _dropsChanged = new Signal<
    this,
    Readonly<Partial<Record<ActionCapture.Kind, number>>>
  >(this);
  private _edits: EditCapture;
  private _execution: ExecutionCapture;
  private _isDisposed = false;
  private _kernels: KernelCapture;
  private _limiter: RateLimiter<ActionCapture.Kind>;
  private _outputs: OutputCapture;
  private _emitter: CaptureEmitter;
  private _paths: PathTreatment;
  private _shell: JupyterFrontEnd.IShell | null;
  private _snapshotCommand: IDisposable;
  private _snapshots: SnapshotCapture;
  private _structure: StructureCapture;
  private _commands: CommandRegistry;
  private _toggle: IDisposable;
}

/**
 * The statics of the action capture.
 */
export namespace ActionCapture {
  /**
   * How paths are recorded.
   */
  export type PathMode = Config.PathMode;

  /**
   * The kinds of actions, each on or off.
   */
  export type Kind = Config.Kind;

  /**
   * What is captured (the settings of the same names).
   */
  export type IConfig = Config.ICaptureConfig;

  /**
   * The options of the capture.
   */
  export interface IOptions {
    /**
     * The client the events go through.
     */
    client: IEventsClient;
    /**
     * The application's commands; the capture adds the notebook opt-out toggle.
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
     * The shell, to see which document is in focus (JupyterLab's, whose
     * focus moves between tabs, or Jupyter Notebook's, which holds one).
     */
    shell?: JupyterFrontEnd.IShell | null;
    /**
     * The console tracker, to see kernels started, restarted and shut down in consoles.
     */
    consoles?: IConsoleTracker | null;
    /**
     * The translator of the toggle's label.
     */
    translator?: ITranslator | null;
    /**
     * What is captured; {@link DEFAULT_CONFIG} when omitted.
     */
    config?: Partial<IConfig>;
  }

  /**
   * Every kind.
   */
  export const KINDS = Settings.KINDS;

  /**
   * The settings' defaults.
   */
  export const DEFAULT_CONFIG = Settings.DEFAULT_CONFIG;

  /**
   * The version of the UI-action schemas these events follow.
   */
  export const VERSION = Config.VERSION;

  /**
   * The UI-action schemas the server ships.
   */
  export const SCHEMAS = Config.SCHEMAS;
}
