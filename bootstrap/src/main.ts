// The sidecar's entry point: configuration, signals, exit codes.
//   0 stopped on request; 2 bad configuration; 3 a state that needs a human
//   (the log says what and how to recover); 4 keys could not be stored in time.
import { readFileSync } from "node:fs";
import { Bootstrapper, EXIT } from "./bootstrap";
import { BootstrapConfigError, loadConfig } from "./config";
import { createLogger } from "./log";
import { SecretManagerStore } from "./secret-store";
import { VaultClient } from "./vault-client";

function main(): void {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof BootstrapConfigError)) throw error;
    for (const line of error.problems) process.stderr.write(`${line}\n`);
    process.exit(EXIT.config);
  }
  const log = createLogger(config.logLevel);
  let ca: Buffer;
  try {
    ca = readFileSync(config.vaultCaCertFile);
  } catch (error) {
    process.stderr.write(`bootstrap config: VAULT_CACERT: cannot read ${config.vaultCaCertFile} (${(error as NodeJS.ErrnoException).code}); mount the TLS secret's ca.crt there\n`);
    process.exit(EXIT.config);
  }
  const vault = new VaultClient({ address: config.vaultAddr, ca, servername: config.vaultTlsServerName });
  const store = new SecretManagerStore(config.project, config.secretManagerEndpoint);
  const bootstrapper = new Bootstrapper({ config, vault, store, log });

  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) return;
    log.info({ signal, keysUnstored: bootstrapper.holdsUnstoredKeys }, bootstrapper.holdsUnstoredKeys ? "stop requested; storing the keys first" : "stop requested");
    stop.abort();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  log.info({ pod: config.podName, ordinal: config.ordinal, seal: config.seal, storage: config.storage, vault: config.vaultAddr }, "bootstrap sidecar starting");
  bootstrapper
    .run(stop.signal)
    .then((code) => {
      vault.close();
      process.exit(code);
    })
    .catch((error: Error) => {
      log.error({ err: { message: error.message } }, "unexpected failure");
      process.exit(1);
    });
}

main();
