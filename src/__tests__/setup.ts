// jsdom hides Node's structuredClone, which IndexedDB (fake-indexeddb) needs.
import { deserialize, serialize } from 'v8';

if (typeof globalThis.structuredClone !== 'function') {
  globalThis.structuredClone = (value: any) => deserialize(serialize(value));
}
