// Puppeteer settings for the operator guide's diagram test (@mermaid-js/mermaid-cli):
// never download a browser at install time (nothing may be fetched but
// packages); use Debian's Chromium, which scripts/install-tools.sh installs,
// or the browser PUPPETEER_EXECUTABLE_PATH names (CI uses the runner's Chrome).
module.exports = {
  skipDownload: true,
  executablePath: process.env.PUPPETEER_EXECUTABLE_PATH || "/usr/bin/chromium",
};
