// Keeps the sidecar in step with the TLS secret as it rotates: the mounted
// ca.crt is read on every pass and a changed bundle is trusted from the next
// call (a CA rotation would otherwise cut the sidecar off from Vault), and the
// certificate the local Vault presents is read over a handshake now and then,
// so its expiry (and its CA's) is a metric the VaultCertificateExpiring alert
// watches. Neither ever fails a pass: a failure is counted and logged.
import { readFileSync } from "node:fs";
import { servedCertificate } from "../vault/served-certificate";
import type { Context } from "./state";

/** Trusts the mounted bundle if it changed (call before the pass's first Vault call). */
export function trustMountedCa(ctx: Context): void {
  const { config, state, status, log, vault } = ctx;
  let bundle: string;
  try {
    bundle = readFileSync(config.vaultCaCertFile, "utf8");
  } catch (error) {
    status.failed("certificates");
    log.warn({ file: config.vaultCaCertFile, err: { message: (error as Error).message } }, "cannot read the CA bundle; still trusting the one read before");
    return;
  }
  if (state.caBundle === undefined) state.caBundle = bundle;
  else if (bundle !== state.caBundle && bundle.includes("-----END CERTIFICATE-----")) {
    vault.setCa(bundle);
    state.caBundle = bundle;
    log.info({ file: config.vaultCaCertFile }, "the CA bundle changed; trusting the new one");
  }
}

/** Reads the certificate the local Vault presents, when the last read is old enough. */
export async function checkServedCertificate(ctx: Context): Promise<void> {
  const { config, state, status, log } = ctx;
  if (Date.now() < state.certificateCheckDueAt || state.caBundle === undefined) return;
  state.certificateCheckDueAt = Date.now() + config.certificateCheckSec * 1000;
  try {
    const read = ctx.servedCertificate ?? servedCertificate;
    const served = await read(config.vaultAddr, state.caBundle, config.vaultTlsServerName);
    status.certificateServed(served.expiresAt, served.caExpiresAt, served.fingerprint256);
  } catch (error) {
    status.failed("certificates");
    log.warn({ err: { message: (error as Error).message } }, "cannot read the certificate vault presents");
  }
}
