// Test-only: VAULT_GKE_TEST_CRASH_AT=<step> makes the sidecar SIGKILL itself
// at that step boundary, so the crash tests can stop it at an exact moment.
// Unset in every real deployment (the vault stack never sets it).
import type { Logger } from "../shared/log";

export type Step =
  | "before-intent"
  | "after-intent"
  | "after-init"
  | "after-store"
  | "after-root-stored"
  | "after-unseal"
  | "after-audit"
  | "after-policies"
  | "after-generate-root-token-created"
  | "after-generate-root-token-stored"
  | "after-sidecar-token-created"
  | "after-sidecar-token-stored"
  | "after-plan-token-created"
  | "after-plan-token-stored"
  | "after-root-revoked";

export function checkpoint(step: Step, log: Logger): void {
  log.debug({ step }, "step done");
  if (process.env.VAULT_GKE_TEST_CRASH_AT === step) {
    log.warn({ step }, "test hook: crashing at this step");
    process.kill(process.pid, "SIGKILL");
  }
}

/**
 * Test-only: VAULT_GKE_TEST_PAUSE_AT=<step> and VAULT_GKE_TEST_PAUSE_MS make
 * the sidecar wait at that step boundary, so a test can kill the Vault server
 * at an exact moment of the bootstrap. Unset in every real deployment.
 */
export async function pauseAt(step: Step, log: Logger): Promise<void> {
  if (process.env.VAULT_GKE_TEST_PAUSE_AT !== step) return;
  const ms = Number(process.env.VAULT_GKE_TEST_PAUSE_MS ?? "0");
  log.warn({ step, ms }, "test hook: pausing at this step");
  await new Promise((r) => setTimeout(r, ms));
}
