import { readdirSync, readFileSync, statSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';

/**
 * The rooms of `src/` and which others each may import, as
 * `tests/test_layers.py` checks the Python layers: features read the tokens,
 * the settings model and the client, never each other.
 */
const ALLOWED: Record<string, ReadonlyArray<string>> = {
  'tokens.ts': [],
  'index.ts': ['*'],
  settings: ['tokens.ts'],
  // The client subscribes through stream/; the stream calls the REST API
  // through the client's request and reason.
  client: ['tokens.ts', 'stream'],
  stream: ['tokens.ts', 'client'],
  capture: ['tokens.ts', 'settings', 'client'],
  consent: ['tokens.ts', 'settings'],
  viewer: ['tokens.ts', 'settings', 'client', 'stream'],
  statusbar: ['tokens.ts'],
  activity: ['tokens.ts', 'client'],
  eventmanager: ['tokens.ts', 'client', 'stream']
};

const SRC = resolve(__dirname, '..');

/**
 * Every source module of `src/` (tests aside), relative to it.
 */
function modules(dir = SRC): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== '__tests__') {
        found.push(...modules(path));
      }
    } else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) {
      found.push(relative(SRC, path));
    }
  }
  return found;
}

/**
 * What a module imports: packages by name, modules of `src/` by path.
 */
function imports(module: string): { packages: string[]; local: string[] } {
  const text = readFileSync(join(SRC, module), 'utf8');
  const packages: string[] = [];
  const local: string[] = [];
  for (const match of text.matchAll(
    /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]/g
  )) {
    const spec = match[1] ?? match[2];
    if (!spec.startsWith('.')) {
      packages.push(spec);
      continue;
    }
    const base = join(dirname(module), spec);
    const target = ['.ts', '.tsx', '/index.ts']
      .map(ext => base + ext)
      .find(path => modules().includes(path));
    if (!target) {
      throw new Error(`${module}: cannot resolve ${spec}`);
    }
    local.push(target);
  }
  return { packages, local };
}

/**
 * The room of a module: its folder, or the file itself at the root.
 */
function room(module: string): string {
  return module.includes('/') ? module.split('/')[0] : module;
}

describe('the rooms of src/', () => {
  const all = modules();

  it('are the ones the architecture names, and nothing else at the root', () => {
    expect([...new Set(all.map(room))].sort()).toEqual(
      Object.keys(ALLOWED).sort()
    );
  });

  it('give each feature folder its plugin.ts', () => {
    for (const name of Object.keys(ALLOWED)) {
      if (!name.endsWith('.ts')) {
        const hasPlugin = all.includes(`${name}/plugin.ts`);
        // stream/ is the client's, with no plugin of its own.
        expect([name, hasPlugin]).toEqual([name, name !== 'stream']);
      }
    }
  });

  it('import one way: features read the tokens, settings/ and client/, never each other', () => {
    const wrong: string[] = [];
    for (const module of all) {
      const from = room(module);
      for (const target of imports(module).local) {
        const to = room(target);
        const allowed = ALLOWED[from];
        if (to !== from && !allowed.includes('*') && !allowed.includes(to)) {
          wrong.push(`${module} -> ${target}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('let no plugin but the settings plugin touch the setting registry', () => {
    // By import, by name (the token or its id), or through the server's
    // settings API: every other room reads IEventsSettings.
    const touches = (module: string) =>
      imports(module).packages.includes('@jupyterlab/settingregistry') ||
      /ISettingRegistry|settingregistry|serviceManager\.settings|api\/settings/.test(
        readFileSync(join(SRC, module), 'utf8')
      );
    const readers = all.filter(touches);
    expect(readers.filter(module => room(module) !== 'settings')).toEqual([]);
    expect(readers).toContain('settings/plugin.ts');
  });

  it('have no module that imports itself back through others', () => {
    const graph = new Map(all.map(module => [module, imports(module).local]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (module: string, path: string[]) => {
      if (state.get(module) === 'done') {
        return;
      }
      if (state.get(module) === 'open') {
        cycles.push([...path.slice(path.indexOf(module)), module].join(' -> '));
        return;
      }
      state.set(module, 'open');
      for (const next of graph.get(module) ?? []) {
        visit(next, [...path, module]);
      }
      state.set(module, 'done');
    };
    all.forEach(module => visit(module, []));
    expect(cycles).toEqual([]);
  });
});
