import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import type { JSONObject } from '@lumino/coreutils';
import type { FocusTracker, Widget } from '@lumino/widgets';

import { CommandCapture } from './commands';
import type { CaptureEmitter } from './emitter';

/**
 * Documents opened, saved and closed, and the document in focus: their path
 * (as the path mode says) and type, never their content.
 */
export class DocumentCapture {
  constructor(
    private _emitter: CaptureEmitter,
    private _docRegistry: DocumentRegistry | null
  ) {}

  /**
   * Record a document opened, then its saves and its closing.
   */
  watch(context: DocumentRegistry.Context): void {
    this.emit('opened', context);
    context.saveState.connect((_, state) => {
      if (state === 'completed') {
        this.emit('saved', context);
      }
    }, this);
    context.disposed.connect(() => this.emit('closed', context), this);
  }

  /**
   * Record an action on a document.
   */
  emit(
    action: 'opened' | 'saved' | 'closed',
    context: DocumentRegistry.Context
  ): void {
    if (
      !this._emitter.capturing('documents') ||
      this._emitter.optedOut(context)
    ) {
      return;
    }
    const data: JSONObject = {
      action,
      ...this._emitter.paths.fields('path', context.localPath)
    };
    const documentType = this._documentType(context);
    if (documentType) {
      data.document_type = documentType;
    }
    this._emitter.emit('documents', 'document', data);
  }

  /**
   * Record the document in focus when it changes.
   */
  onCurrentChanged(
    _: JupyterFrontEnd.IShell,
    { newValue }: FocusTracker.IChangedArgs<Widget>
  ): void {
    const context = CommandCapture.contextOf(newValue);
    if (context === this._focused) {
      return;
    }
    this._focused = context;
    if (
      !this._emitter.capturing('activeDocument') ||
      this._emitter.optedOut(context)
    ) {
      return;
    }
    const data: JSONObject = context
      ? this._emitter.paths.fields('path', context.localPath)
      : { path_mode: this._emitter.paths.mode };
    const documentType = context ? this._documentType(context) : undefined;
    if (documentType) {
      data.document_type = documentType;
    }
    this._emitter.emit('activeDocument', 'activeDocument', data);
  }

  private _documentType(context: DocumentRegistry.Context): string | undefined {
    const fileType = this._docRegistry?.getFileTypesForPath(context.path)[0];
    return fileType?.name ?? context.contentsModel?.type ?? undefined;
  }

  private _focused: DocumentRegistry.Context | null = null;
}
