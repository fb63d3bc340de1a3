import { nullTranslator } from '@jupyterlab/translation';

import { OperatorLocks } from '../settings/locks';
import {
  SETTINGS_ID,
  SettingsConnector,
  settingRegistry,
  shippedSchema
} from './settings';

const trans = nullTranslator.load('jupyter_events_ext');

/**
 * The settings as the plugin loads them, through a real setting registry
 * with the transform registered first, as the client plugin does.
 */
async function load(connector: SettingsConnector) {
  const registry = await settingRegistry(connector);
  OperatorLocks.register(registry, SETTINGS_ID, trans);
  return { registry, settings: await registry.load(SETTINGS_ID) };
}

describe('OperatorLocks', () => {
  it('asks the setting registry for the transform', () => {
    expect(shippedSchema()['jupyter.lab.transform']).toBe(true);
  });

  it('leaves every setting to the user when nothing is locked', async () => {
    const connector = new SettingsConnector();
    await connector.setUser({ capture: false, pathMode: 'omitted' });
    const { settings } = await load(connector);

    expect(settings.composite.capture).toBe(false);
    expect(settings.composite.pathMode).toBe('omitted');
    const properties = settings.schema.properties!;
    expect(properties.capture.readOnly).toBeUndefined();
    expect(properties.pathMode.readOnly).toBeUndefined();
  });

  it('keeps the operator’s value of a locked setting, whatever the user set', async () => {
    const connector = new SettingsConnector({
      capture: true,
      pathMode: 'omitted',
      locked: ['capture', 'pathMode']
    });
    await connector.setUser({
      capture: false,
      pathMode: 'as-is',
      documents: false
    });
    const { settings } = await load(connector);

    expect(settings.composite.capture).toBe(true);
    expect(settings.composite.pathMode).toBe('omitted');
    // Settings not locked are still the user's.
    expect(settings.composite.documents).toBe(false);
    // The user's own file is left alone: it applies again once unlocked.
    expect(settings.user.capture).toBe(false);
  });

  it('shows a locked setting read-only in the form, saying why', async () => {
    const connector = new SettingsConnector({
      pathMode: 'omitted',
      locked: ['pathMode']
    });
    const { settings } = await load(connector);
    const properties = settings.schema.properties!;

    expect(properties.pathMode.readOnly).toBe(true);
    expect(properties.pathMode.description).toMatch(
      /^Locked by the operator: .*How document and notebook paths are recorded/
    );
    expect(properties.capture.readOnly).toBeUndefined();
    expect(properties.capture.description).not.toMatch(/Locked/);
    // The shipped schema is not changed in place.
    expect(shippedSchema().properties!.pathMode.readOnly).toBeUndefined();
  });

  it('keeps a locked setting at the operator’s value when the user sets it', async () => {
    const connector = new SettingsConnector({
      capture: false,
      locked: ['capture']
    });
    const { settings } = await load(connector);
    let changes = 0;
    settings.changed.connect(() => changes++);

    await settings.set('capture', true);

    expect(changes).toBeGreaterThan(0);
    expect(settings.user.capture).toBe(true);
    expect(settings.composite.capture).toBe(false);
    expect(settings.get('capture').composite).toBe(false);
  });

  it('makes the list of locks the operator’s alone', async () => {
    const connector = new SettingsConnector({
      capture: false,
      locked: ['capture']
    });
    // A user cannot unlock, nor lock anything of their own.
    await connector.setUser({ capture: true, locked: ['pathMode'] });
    const { settings } = await load(connector);

    expect(settings.composite.locked).toEqual(['capture']);
    expect(settings.composite.capture).toBe(false);
    expect(settings.schema.properties!.locked.readOnly).toBe(true);
    expect(settings.schema.properties!.pathMode.readOnly).toBeUndefined();
  });

  it('keeps the list read-only when the operator locked nothing', async () => {
    const connector = new SettingsConnector();
    await connector.setUser({ locked: ['capture'] });
    const { settings } = await load(connector);

    expect(settings.schema.properties!.locked.readOnly).toBe(true);
    expect(settings.composite.locked).toEqual([]);
  });

  it('ignores names in the list that are not settings', () => {
    const schema = shippedSchema();
    schema.properties!.locked.default = ['capture', 'nonsense', 'locked', 7];
    expect(OperatorLocks.lockedKeys(schema)).toEqual(['capture']);
  });

  it('locks the consent mode like any other setting', async () => {
    const connector = new SettingsConnector({
      consent: 'opt-in',
      locked: ['consent']
    });
    await connector.setUser({ consent: 'none' });
    const { settings } = await load(connector);

    expect(settings.composite.consent).toBe('opt-in');
    expect(settings.schema.properties!.consent.readOnly).toBe(true);
  });

  it('are needed before the settings load: the registry refuses them until then', async () => {
    const registry = await settingRegistry(new SettingsConnector());
    await expect(registry.load(SETTINGS_ID)).rejects.toEqual([
      expect.objectContaining({ keyword: 'unset' })
    ]);
  });
});
