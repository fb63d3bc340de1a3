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
   * The path fields of an event: `key` (unless left out) and `path_mode`.
   */
  fields(key: string, path: string | undefined): JSONObject {
    const mode = this.mode;
    const value = path === undefined ? undefined : this.value(path);
    return value === undefined
      ? { path_mode: mode }
      : { [key]: value, path_mode: mode };
  }

  /**
   * One path as recorded, or undefined when it is left out.
   */
  value(path: string): string | undefined {
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
          this.mode !== 'omitted' &&
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
  private _key: Uint8Array | null = null;
}

namespace Private {
  /**
   * The argument names that hold paths: `path`, `paths`, `newPath`, `old_path`, ...
   */
  export const PATH_KEY = /(^|[_a-z])(path|Path|PATH)s?$/;
}
