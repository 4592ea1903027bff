// Preloaded into a measured node process by scripts/bench/measure.ts: appends
// the process's peak RSS (KB, from getrusage) to VAULT_GKE_RSS_FILE at exit.
const { appendFileSync } = require("node:fs");
process.on("exit", () => {
  if (process.env.VAULT_GKE_RSS_FILE) appendFileSync(process.env.VAULT_GKE_RSS_FILE, `${process.resourceUsage().maxRSS}\n`);
});
