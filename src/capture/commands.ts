import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { ISessionContext } from '@jupyterlab/apputils';
import type {
  DocumentRegistry,
  IDocumentWidget
} from '@jupyterlab/docregistry';
import type { CommandRegistry } from '@lumino/commands';
import type { JSONObject, JSONValue } from '@lumino/coreutils';
import type { Widget } from '@lumino/widgets';

import type { CaptureEmitter } from './emitter';
import type { KernelCapture } from './kernels';

/**
 * Commands executed: their id, and their arguments (paths treated as the path
 * mode says) only for the commands operators allowlist. Also the interrupts,
 * which leave no trace on the session.
 */
export class CommandCapture {
  constructor(
    private _emitter: CaptureEmitter,
    private _kernels: KernelCapture,
    private _shell: JupyterFrontEnd.IShell | null
  ) {}

  /**
   * Read the command patterns from the configuration again.
   */
  configure(): void {
    const config = this._emitter.config;
    this._allow = CommandCapture.patterns(config.commandAllow);
    this._deny = CommandCapture.patterns(config.commandDeny);
    this._withArgs = CommandCapture.patterns(config.commandArgs);
  }

  /**
   * Record a command executed.
   */
  onExecuted(
    _: CommandRegistry,
    { id, args }: CommandRegistry.ICommandExecutedArgs
  ): void {
    const focused = this._shell?.currentWidget ?? null;
    // A command run in a notebook that opted out is about that notebook.
    if (this._emitter.optedOut(CommandCapture.contextOf(focused))) {
      return;
    }
    if (
      this._emitter.capturing('commands') &&
      this._allow.test(id) &&
      !this._deny.test(id)
    ) {
      const data: JSONObject = { command_id: id };
      if (this._withArgs.test(id)) {
        data.args = this._emitter.paths.args(
          JSON.parse(JSON.stringify(args ?? {})) as JSONValue
        ) as JSONObject;
      }
      this._emitter.emit('commands', 'command', data);
    }
    if (
      CommandCapture.INTERRUPT_COMMANDS.has(id) &&
      this._emitter.capturing('kernels')
    ) {
      const found = CommandCapture.sessionOf(focused);
      const kernel = found?.sessionContext.session?.kernel;
      if (found && kernel) {
        this._kernels.emit('interrupt', kernel, found.path);
      }
    }
  }

  private _allow = /$^/;
  private _deny = /$^/;
  private _withArgs = /$^/;
}

export namespace CommandCapture {
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
