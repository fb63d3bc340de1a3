/**
 * How this project's browser tests and benchmark launch Chromium: Debian's
 * (this network reaches package registries only, so Playwright downloads
 * none), with the switches a headless container needs.
 */
const { execSync } = require('child_process');

/**
 * Launch options for Playwright's `chromium.launch` (or `launchOptions`).
 */
function chromiumLaunchOptions() {
  return {
    executablePath:
      process.env.CHROMIUM_PATH ||
      execSync('command -v chromium || command -v chromium-browser')
        .toString()
        .trim(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run'
    ]
  };
}

module.exports = { chromiumLaunchOptions };
