import type { ISessionContext } from '@jupyterlab/apputils';
import type { Kernel } from '@jupyterlab/services';

import type { CaptureEmitter } from './emitter';

/**
 * Kernels started, restarted, interrupted and shut down from the UI.
 */
export class KernelCapture {
  constructor(private _emitter: CaptureEmitter) {}

  /**
   * Kernel starts, restarts and shutdowns asked through a session context.
   *
   * @param path - the document's path, when the session has one
   * @param optedOut - whether that document opted out of capture now
   */
  watch(
    sessionContext: ISessionContext,
    path: () => string | undefined,
    optedOut: () => boolean = () => false
  ): void {
    let last: ISessionContext.KernelDisplayStatus | null = null;
    sessionContext.statusChanged.connect((_, status) => {
      // The session context and then its kernel both say `restarting`.
      if (status !== last && this._capturing(optedOut)) {
        const kernel = sessionContext.session?.kernel;
        if (kernel && status === 'restarting') {
          this.emit('restart', kernel, path());
        } else if (kernel && status === 'terminating') {
          this.emit('shutdown', kernel, path());
        }
      }
      last = status;
    }, this);
    sessionContext.kernelChanged.connect((_, { oldValue, newValue }) => {
      // A restart emits the same kernel as old and new value.
      if (newValue && newValue !== oldValue && this._capturing(optedOut)) {
        this.emit('start', newValue, path());
      }
    }, this);
  }

  /**
   * Record a kernel action.
   */
  emit(
    action: 'start' | 'restart' | 'interrupt' | 'shutdown',
    kernel: Kernel.IKernelConnection,
    path: string | undefined
  ): void {
    this._emitter.emit('kernels', 'kernel', {
      action,
      kernel_name: kernel.name,
      kernel_id: kernel.id,
      ...this._emitter.paths.fields('notebook', path)
    });
  }

  private _capturing(optedOut: () => boolean): boolean {
    return this._emitter.capturing('kernels') && !optedOut();
  }
}
