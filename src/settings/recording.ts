import type { IEventsConsent, IEventsSettings } from '../tokens';
import { KINDS, PATH_MODES } from './config';

/**
 * Whether the consent lets UI actions be captured in a consent mode (the
 * `consent` setting's value): always but in the opt-in mode, and there only
 * once the user agreed (never without a consent plugin to ask them).
 */
export function captureAllowed(
  mode: unknown,
  consent: Pick<IEventsConsent, 'decision'> | null
): boolean {
  return mode !== 'opt-in' || consent?.decision === 'agreed';
}

/**
 * What this browser records, as the settings in force and the user's consent
 * say together: the one answer every surface shows and capture obeys.
 */
export function recordingOf(
  config: IEventsSettings.IConfig,
  consent: Pick<IEventsConsent, 'decision'> | null,
  serverPathMode: IEventsSettings.PathMode | null = null
): IEventsSettings.IRecording {
  const kinds = {} as Record<IEventsSettings.Kind, boolean>;
  for (const kind of KINDS) {
    kinds[kind] = config.capture[kind];
  }
  const reason: IEventsSettings.IRecording['reason'] = !config.capture.enabled
    ? 'off'
    : captureAllowed(config.consent, consent)
      ? null
      : consent?.decision === 'declined'
        ? 'declined'
        : 'no-consent';
  return Object.freeze({
    ...kinds,
    capture: reason === null,
    reason,
    consent: config.consent,
    pathMode: mostProtected(config.capture.pathMode, serverPathMode),
    serverPathMode,
    locked: config.locked
  });
}

/**
 * The more protected of the setting and the server's policy (if any).
 */
function mostProtected(
  setting: IEventsSettings.PathMode,
  server: IEventsSettings.PathMode | null
): IEventsSettings.PathMode {
  return server !== null &&
    PATH_MODES.indexOf(server) > PATH_MODES.indexOf(setting)
    ? server
    : setting;
}

/**
 * A path mode the server named, or `null` for anything else (an older server
 * says none).
 */
export function pathModeOf(value: unknown): IEventsSettings.PathMode | null {
  return PATH_MODES.includes(value as IEventsSettings.PathMode)
    ? (value as IEventsSettings.PathMode)
    : null;
}
