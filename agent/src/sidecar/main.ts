// The sidecar's entry point: configuration, the status endpoint, signals, exit
// codes. It exits only when asked to stop (SIGTERM/SIGINT):
//   0 stopped on request; 2 stopped after reporting bad configuration;
//   4 stopped before the keys could be stored (the grace period ran out).
// Every other state it cannot fix is a diagnosis it keeps reporting.
import { CLEARED } from "./clear-logging-switches";
import { readFileSync } from "node:fs";
import { SIDECAR_HTTP_PORT } from "../../../contract/ports";
import { EXIT, SidecarLoop } from "./loop";
import { BootstrapConfigError, loadConfig } from "./config";
import { badConfiguration } from "./diagnoses";
import { startStatusServer } from "./http-server";
import { createLogger } from "../shared/log";
import { SecretManagerStore } from "./secret-store";
import { SidecarStatus } from "./status";
import { VaultClient } from "../vault/client";

/** The loop is reported stuck (liveness fails) after this long without a turn. */
const STALE_AFTER_MS = 180_000;

function onStop(handler: (signal: NodeJS.Signals) => void): void {
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
}

/** Bad settings: report them, serve the endpoint with the diagnosis, and wait for the pod to stop. */
async function reportBadConfiguration(problems: readonly string[]): Promise<void> {
  for (const line of problems) process.stderr.write(`${line}\n`);
  const log = createLogger("info");
  const status = new SidecarStatus(process.env.POD_NAME ?? "unknown");
  const diagnosis = badConfiguration(problems);
  status.report(diagnosis);
  log.error({ diagnosis: diagnosis.code, recovery: diagnosis.recovery }, diagnosis.message);
  const asked = process.env.HTTP_PORT === undefined ? NaN : Number(process.env.HTTP_PORT);
  const port = Number.isInteger(asked) && asked >= 0 && asked <= 65535 ? asked : SIDECAR_HTTP_PORT;
  const server = await startStatusServer(status, { port, staleAfterMs: Number.MAX_SAFE_INTEGER }).catch(() => undefined);
  const address = server?.address();
  if (address && typeof address === "object") log.info({ port: address.port }, "status endpoint listening");
  onStop(() => {
    server?.close();
    process.exit(EXIT.config);
  });
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof BootstrapConfigError)) throw error;
    return reportBadConfiguration(error.problems);
  }
  const log = createLogger(config.logLevel);
  if (CLEARED.length > 0) log.warn({ variables: CLEARED }, "removed logging switches that would print secrets from the Google libraries");
  let ca: Buffer;
  try {
    ca = readFileSync(config.vaultCaCertFile);
  } catch (error) {
    return reportBadConfiguration([
      `bootstrap config: VAULT_CACERT: cannot read ${config.vaultCaCertFile} (${(error as NodeJS.ErrnoException).code}); mount the TLS secret's ca.crt there`,
    ]);
  }
  const status = new SidecarStatus(config.podName);
  const server = await startStatusServer(status, { port: config.httpPort, staleAfterMs: STALE_AFTER_MS });
  const address = server.address();
  log.info({ port: typeof address === "object" && address ? address.port : config.httpPort }, "status endpoint listening");
  const vault = new VaultClient({ address: config.vaultAddr, ca, servername: config.vaultTlsServerName });
  const store = new SecretManagerStore(config.project, config.secretManagerEndpoint);
  const loop = new SidecarLoop({ config, vault, store, log, status });

  const stop = new AbortController();
  onStop((signal) => {
    if (stop.signal.aborted) return;
    log.info({ signal, keysUnstored: loop.holdsUnstoredKeys }, loop.holdsUnstoredKeys ? "stop requested; storing the keys first" : "stop requested");
    stop.abort();
  });

  log.info(
    { pod: config.podName, ordinal: config.ordinal, seal: config.seal, storage: config.storage, vault: config.vaultAddr, httpPort: config.httpPort },
    "bootstrap sidecar starting",
  );
  const code = await loop.run(stop.signal).catch((error: Error) => {
    // Not reached in practice (the loop catches per pass); a last guard that still says what happened.
    log.error({ err: { message: error.message } }, "unexpected failure");
    return 1;
  });
  vault.close();
  server.close();
  process.exit(code);
}

void main();
