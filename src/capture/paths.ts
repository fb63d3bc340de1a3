import type { JSONObject, JSONValue } from '@lumino/coreutils';
import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils';

import type { PathMode } from './config';

/**
 * Paths as the path mode says: as is, hashed with the deployment's key, or left out.
 */
export class PathTreatment {
  constructor(private _mode: () => PathMode) {}

  /**
   * The current path mode.
   */
  get mode(): PathMode {
    return this._mode();
  }

  /**
   * Set the deployment's key (hex) with which paths are hashed (HMAC-SHA256)
   * in the `hashed` mode. Until it is set, such paths are left out.
   */
  setKey(hexKey: string): void {
    this._key = hexToBytes(hexKey);
    this._digests.clear();
  }

  /**
   * Hold paths until `release`: the path policy in force is not known yet
   * (the server has not said, or its key has not come). Each path is then
   * recorded as a placeholder kept in this page's memory, so that an event
   * of the page's first moments (a notebook opening as the page loads) keeps
   * its path once the policy is known. Whoever holds must not send an event
   * with a placeholder before it is resolved (`CaptureEmitter` holds them).
   */
  hold(): void {
    this._held ??= new Map();
  }

  /**
   * Stop holding paths.
   *
   * @returns what puts, in an event recorded while held, each path as the
   *   path mode now says (or leaves it out, with its key) and the mode in
   *   force as its `path_mode`
   */
  release(): (data: JSONObject) => JSONObject {
    const held = this._held ?? new Map<string, string>();
    this._held = null;
    return data => Private.resolve(data, held, this) as JSONObject;
  }

  /**
   * The path fields of an event: `key` (unless left out) and `path_mode`.
   */
  fields(key: string, path: string | undefined): JSONObject {
    const mode = this._held ? Private.HELD_MODE : this.mode;
    const value = path === undefined ? undefined : this.value(path);
    return value === undefined
      ? { path_mode: mode }
      : { [key]: value, path_mode: mode };
  }

  /**
   * One path as recorded, or undefined when it is left out.
   */
  value(path: string): string | undefined {
    if (this._held) {
      const placeholder = `${Private.HELD_MODE}${this._held.size}`;
      this._held.set(placeholder, path);
      return placeholder;
    }
    const mode = this.mode;
    if (mode === 'omitted') {
      return undefined;
    }
    if (mode === 'as-is') {
      return path;
    }
    if (this._key === null) {
      // No key (yet): a plain hash of a guessable path would give it away.
      return undefined;
    }
    let digest = this._digests.get(path);
    if (digest === undefined) {
      // Synchronous (unlike crypto.subtle, which plain-http hosts lack too), so an
      // event is emitted in the same task as the action it records.
      digest = bytesToHex(hmac(sha256, this._key, utf8ToBytes(path)));
      this._digests.set(path, digest);
    }
    return digest;
  }

  /**
   * A copy of command arguments whose paths (the values of keys such as
   * `path`, `paths`, `oldPath` or `notebook_path`, at any depth) are treated
   * as the path mode says; a path left out loses its key.
   */
  args(args: JSONValue): JSONValue {
    if (Array.isArray(args)) {
      return args.map(item => this.args(item));
    }
    if (args === null || typeof args !== 'object') {
      return args;
    }
    const treated: JSONObject = {};
    for (const [key, value] of Object.entries(args)) {
      if (value === undefined) {
        continue;
      }
      if (!Private.PATH_KEY.test(key)) {
        treated[key] = this.args(value);
      } else if (typeof value === 'string') {
        const path = this.value(value);
        if (path !== undefined) {
          treated[key] = path;
        }
      } else if (Array.isArray(value)) {
        if (
          (this._held || this.mode !== 'omitted') &&
          value.every(v => typeof v === 'string')
        ) {
          const paths = value.map(v => this.value(v as string));
          if (paths.every(p => p !== undefined)) {
            treated[key] = paths as string[];
          }
        }
      } else {
        treated[key] = this.args(value);
      }
    }
    return treated;
  }

  private _digests = new Map<string, string>();
  private _held: Map<string, string> | null = null;
  private _key: Uint8Array | null = null;
}

namespace Private {
  /**
   * The mark of a held path, and the `path_mode` of an event recorded while
   * paths are held: no path or mode a user or server could write begins so.
   */
  export const HELD_MODE = '\u0000held-path:';

  /**
   * A value recorded while paths were held, each placeholder replaced by its
   * path as `paths` treats it now; `undefined` where that leaves it out (an
   * array of paths goes whole or not at all, as `args` treats one).
   */
  export function resolve(
    value: JSONValue,
    held: ReadonlyMap<string, string>,
    paths: PathTreatment
  ): JSONValue | undefined {
    if (typeof value === 'string') {
      if (value === HELD_MODE) {
        return paths.mode;
      }
      const path = held.get(value);
      return path === undefined ? value : paths.value(path);
    }
    if (Array.isArray(value)) {
      const items = value.map(item => resolve(item, held, paths));
      return items.includes(undefined) ? undefined : (items as JSONValue[]);
    }
    if (value === null || typeof value !== 'object') {
      return value;
    }
    const resolved: JSONObject = {};
    for (const [key, item] of Object.entries(value)) {
      const treated =
        item === undefined ? undefined : resolve(item, held, paths);
      if (treated !== undefined) {
        resolved[key] = treated;
      }
    }
    return resolved;
  }

  /**
   * The argument names that hold paths: `path`, `paths`, `newPath`, `old_path`, ...
   */
  export const PATH_KEY = /(^|[_a-z])(path|Path|PATH)s?$/;
}
