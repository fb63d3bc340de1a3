/**
 * The Web Locks API as a browser gives it to the tabs of one origin: exclusive
 * locks granted in request order, `ifAvailable`, and the locks of a tab that
 * dies released by the browser (`crash`). jsdom has no `navigator.locks`.
 */
export class FakeLocks {
  /**
   * The lock manager of one more tab.
   */
  tab(): FakeLocks.ITab {
    const tab = {};
    const locks = {
      request: (name: string, ...args: any[]) => {
        const callback = args[args.length - 1] as (lock: Lock | null) => any;
        const options = (args.length > 1 ? args[0] : {}) as LockOptions;
        return this._request(tab, name, options, callback);
      },
      query: async () => ({
        held: [...this._held].map(([name]) => ({ name, mode: 'exclusive' })),
        pending: []
      })
    } as unknown as LockManager;
    return { locks, crash: () => this._releaseAll(tab) };
  }

  /**
   * The names of the locks held now.
   */
  get held(): string[] {
    return [...this._held.keys()];
  }

  private async _request(
    tab: object,
    name: string,
    options: LockOptions,
    callback: (lock: Lock | null) => any
  ): Promise<any> {
    let holder = { tab };
    if (this._held.has(name)) {
      if (options.ifAvailable) {
        return callback(null);
      }
      holder = await new Promise<{ tab: object }>(resolve => {
        const waiting = this._waiting.get(name) ?? [];
        waiting.push({ tab, resolve });
        this._waiting.set(name, waiting);
      });
    } else {
      this._held.set(name, holder);
    }
    try {
      return await callback({ name, mode: 'exclusive' } as Lock);
    } finally {
      this._release(name, holder);
    }
  }

  private _release(name: string, holder: { tab: object }): void {
    if (this._held.get(name) !== holder) {
      return; // Released already, when its tab crashed.
    }
    this._held.delete(name);
    const next = this._waiting.get(name)?.shift();
    if (next) {
      // Handed over at once, so that no `ifAvailable` slips in between.
      const granted = { tab: next.tab };
      this._held.set(name, granted);
      next.resolve(granted);
    }
  }

  private _releaseAll(tab: object): void {
    for (const [name, holder] of [...this._held]) {
      if (holder.tab === tab) {
        this._release(name, holder);
      }
    }
  }

  private _held = new Map<string, { tab: object }>();
  private _waiting = new Map<
    string,
    { tab: object; resolve: (holder: { tab: object }) => void }[]
  >();
}

export namespace FakeLocks {
  export interface ITab {
    locks: LockManager;
    /**
     * Release every lock of the tab, as the browser does when a tab dies.
     */
    crash(): void;
  }
}
