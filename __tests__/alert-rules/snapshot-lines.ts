// The snapshot alert's input: Cloud Logging counts the snapshot job's lines that
// match the log-based metric's filter. Here the real snapshot command runs
// against the test's vault (its login through Vault's kubernetes auth and a
// TokenReview stand-in, its bucket on fake-gcs-server), once storing a
// snapshot and once failing, and the platform stack's filter is applied to
// the JSON lines it printed.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SNAPSHOT_KSA, SNAPSHOT_ROLE, DEFAULT_TOKEN_AUDIENCE, AUTH_PATHS } from "../../contract/vault-names";
import { configureInClusterLogin, runCommand, SNAPSHOT_BUNDLE, type CommandRun } from "../../agent/__tests__/support/snapshot-harness";
import { startFakeGcs } from "../support/fake-gcs";
import { startTokenReviewStandIn } from "../support/token-review-stand-in";

export interface SnapshotRuns {
  readonly stored: CommandRun;
  readonly failed: CommandRun;
}

/**
 * Runs the snapshot command twice against `vaultAddr`: into a bucket that exists, then into one that does not.
 * `ok` makes one request as root; the kubernetes auth it mounts at auth/in-cluster is removed afterwards.
 */
export async function runSnapshots(
  dir: string,
  vault: { addr: string; caCertFile: string },
  environment: string,
  namespace: string,
  maxAgeSec: number,
  ok: (method: string, path: string, body?: unknown) => Promise<unknown>,
): Promise<SnapshotRuns> {
  const gcs = await startFakeGcs();
  const k8s = await startTokenReviewStandIn();
  try {
    const bucket = `${environment}-snapshots`;
    await gcs.createBucket(bucket);
    await configureInClusterLogin(ok, k8s, {
      bound_service_account_names: [SNAPSHOT_KSA],
      bound_service_account_namespaces: [namespace],
      audience: DEFAULT_TOKEN_AUDIENCE,
      token_policies: [SNAPSHOT_ROLE],
      token_no_default_policy: true,
      token_ttl: "15m",
    });
    const spool = join(dir, "spool");
    mkdirSync(spool, { recursive: true });
    const run = async (target: string) => {
      const tokenFile = join(dir, `token-${target}`);
      writeFileSync(tokenFile, k8s.issue({ namespace, serviceAccount: SNAPSHOT_KSA, audiences: [DEFAULT_TOKEN_AUDIENCE], ttlSec: 600 }));
      return runCommand(SNAPSHOT_BUNDLE, [], {
        VAULT_ADDR: vault.addr,
        VAULT_CACERT: vault.caCertFile,
        KUBERNETES_TOKEN_FILE: tokenFile,
        SNAPSHOT_BUCKET: target,
        ENVIRONMENT: environment,
        SPOOL_DIR: spool,
        SNAPSHOT_MAX_AGE_SEC: String(maxAgeSec),
        STORAGE_EMULATOR_HOST: gcs.url,
      });
    };
    return { stored: await run(bucket), failed: await run(`${environment}-no-such-bucket`) };
  } finally {
    await ok("DELETE", `sys/auth/${AUTH_PATHS.inCluster}`);
    await k8s.stop();
    await gcs.stop();
  }
}
