import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { NotebookPanel } from '@jupyterlab/notebook';
import { type ITranslator, nullTranslator } from '@jupyterlab/translation';
import { circleEmptyIcon, circleIcon } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import type { PartialJSONObject } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';

/**
 * A notebook's own say on capture: `"jupyter_events_ext": {"capture": false}`
 * in its metadata turns capture off for it (an instructor's answer key, say),
 * when operators let notebooks opt out.
 */
export namespace NotebookOptOut {
  /**
   * The notebook metadata key.
   */
  export const METADATA_KEY = 'jupyter_events_ext';

  /**
   * The command that turns capture off or on for the notebook in focus; the
   * notebook toolbar shows it (schema/plugin.json, `jupyter.lab.toolbars`).
   */
  export const COMMAND = 'jupyter-events-ext:toggle-notebook-capture';

  /**
   * Whether a document model says capture is off for it.
   */
  export function isOptedOut(
    model: DocumentRegistry.IModel | null | undefined
  ): boolean {
    const metadata = Private.metadataOf(model);
    return (
      typeof metadata === 'object' &&
      metadata !== null &&
      (metadata as PartialJSONObject).capture === false
    );
  }

  /**
   * Turn capture off (or back on) for a notebook, in its metadata.
   */
  export function setOptedOut(
    model: DocumentRegistry.IModel,
    optedOut: boolean
  ): void {
    const notebook = model as Private.IMetadataModel;
    if (typeof notebook.setMetadata !== 'function') {
      return;
    }
    const metadata = {
      ...((notebook.getMetadata(METADATA_KEY) as PartialJSONObject) ?? {})
    };
    if (optedOut) {
      metadata.capture = false;
    } else {
      delete metadata.capture;
    }
    if (Object.keys(metadata).length === 0) {
      notebook.deleteMetadata(METADATA_KEY);
    } else {
      notebook.setMetadata(METADATA_KEY, metadata);
    }
  }

  /**
   * Add the toggle command, enabled when a notebook is in focus and operators
   * let notebooks opt out.
   */
  export function addCommand(options: IOptions): IDisposable {
    const { commands, shell } = options;
    const trans = (options.translator ?? nullTranslator).load(
      'jupyter_events_ext'
    );
    const current = () => {
      const widget = shell?.currentWidget ?? null;
      return widget instanceof NotebookPanel ? widget : null;
    };
    const command = commands.addCommand(COMMAND, {
      label: trans.__('Record This Notebook'),
      caption: args => {
        if (!options.allowed()) {
          return trans.__(
            'Capture of this notebook is set by the operator and cannot be turned off here'
          );
        }
        const panel = current();
        return panel && isOptedOut(panel.context.model)
          ? trans.__(
              'Nothing is recorded about this notebook: click to record it again'
            )
          : trans.__(
              'Your actions in this notebook are recorded: click to stop (saved in the notebook)'
            );
      },
      icon: () => {
        const panel = current();
        return panel && isOptedOut(panel.context.model)
          ? circleEmptyIcon
          : circleIcon;
      },
      isEnabled: () => options.allowed() && current() !== null,
      isToggled: () => {
        const panel = current();
        return !!panel && !isOptedOut(panel.context.model);
      },
      execute: () => {
        const panel = current();
        if (panel && options.allowed()) {
          setOptedOut(panel.context.model, !isOptedOut(panel.context.model));
        }
      }
    });
    // The toolbar button redraws when the command says it changed.
    const changed = () => commands.notifyCommandChanged(COMMAND);
    let watched: Private.IMetadataModel | null = null;
    const follow = () => {
      watched?.metadataChanged?.disconnect(changed);
      const model = current()?.context.model as Private.IMetadataModel | null;
      watched = model ?? null;
      watched?.metadataChanged?.connect(changed);
      changed();
    };
    shell?.currentChanged?.connect(follow);
    follow();
    return {
      get isDisposed() {
        return command.isDisposed;
      },
      dispose() {
        shell?.currentChanged?.disconnect(follow);
        watched?.metadataChanged?.disconnect(changed);
        command.dispose();
      }
    };
  }

  export interface IOptions {
    commands: CommandRegistry;
    shell: JupyterFrontEnd.IShell | null;
    /**
     * Whether operators let notebooks opt out (the `notebookOptOut` setting).
     */
    allowed: () => boolean;
    translator?: ITranslator | null;
  }
}

namespace Private {
  export interface IMetadataModel extends DocumentRegistry.IModel {
    getMetadata(key: string): unknown;
    setMetadata(key: string, value: unknown): void;
    deleteMetadata(key: string): void;
    metadataChanged?: {
      connect(fn: () => void): void;
      disconnect(fn: () => void): void;
    };
  }

  export function metadataOf(
    model: DocumentRegistry.IModel | null | undefined
  ): unknown {
    const notebook = model as IMetadataModel | null | undefined;
    return typeof notebook?.getMetadata === 'function'
      ? notebook.getMetadata(NotebookOptOut.METADATA_KEY)
      : undefined;
  }
}
