// The disaster-recovery world that snapshot-restore-*.int.test.ts share, with
// real parts: an OpenBao Raft source vault (Shamir keys) holding several
// tenants' secrets and a transit key, the official Cloud Storage client's
// bucket on fake-gcs-server, and Vault's kubernetes auth (the snapshot job's
// role) against a TokenReview stand-in. useSourceWorld() starts it before a
// file's tests and stops everything after them.
//
// The `let` exports are ES live bindings: a test file that imports `source`
// sees the vault once the beforeAll hook has started it.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopAllBao } from "../../../__tests__/support/bao";
import { startFakeGcs, stopAllFakeGcs, type FakeGcs } from "../../../__tests__/support/fake-gcs";
import { startTokenReviewStandIn, type TokenReviewStandIn } from "../../../__tests__/support/token-review-stand-in";
import { configureInClusterLogin, startShamirVault, untilKvServes, type ShamirVault } from "../support/snapshot-harness";

export const ENVIRONMENT = "example";
export const BUCKET = "example-project-example-vault-snapshots";
export const NAMESPACE = "vault";
export const SERVICE_ACCOUNT = "vault-snapshot";
export const TENANTS = ["alpha", "bravo", "charlie"];

export let dir: string;
export let gcs: FakeGcs;
export let k8s: TokenReviewStandIn;
export let source: ShamirVault;
/** Secrets written into the source: path -> data. */
export const written = new Map<string, Record<string, string>>();
/** Transit ciphertexts: tenant -> { ciphertext, plaintext (base64) }. */
export const encrypted = new Map<string, { ciphertext: string; plaintext: string }>();
/** Every token, key and JWT the calling file made: none may appear in any output. */
export const secrets: string[] = [];

export const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

export function serviceAccountToken(audiences: string[]): string {
  const jwt = k8s.issue({ namespace: NAMESPACE, serviceAccount: SERVICE_ACCOUNT, audiences, ttlSec: 600 });
  secrets.push(jwt);
  const file = join(dir, `token-${secrets.length}`);
  writeFileSync(file, jwt);
  return file;
}

export function snapshotEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    VAULT_ADDR: source.cluster.servers[0].addr,
    VAULT_CACERT: source.cluster.pki.caCertFile,
    KUBERNETES_TOKEN_FILE: serviceAccountToken(["vault"]),
    SNAPSHOT_BUCKET: BUCKET,
    ENVIRONMENT,
    SPOOL_DIR: join(dir, "spool"),
    SNAPSHOT_MAX_AGE_SEC: "7200",
    STORAGE_EMULATOR_HOST: gcs.url,
    ...extra,
  };
}

export function secretsOf(vault: ShamirVault): string[] {
  const hex = vault.keys.map((k) => Buffer.from(k, "base64").toString("hex"));
  return [vault.rootToken, ...vault.keys, ...hex];
}

/** Starts the world before the calling file's tests (its source vault configured) and stops all of it after them. */
export function useSourceWorld(): void {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vault-gke-dr-"));
    mkdirSync(join(dir, "spool"));
    mkdirSync(join(dir, "restore-spool"));
    gcs = await startFakeGcs();
    await gcs.createBucket(BUCKET);
    k8s = await startTokenReviewStandIn();
    secrets.push(k8s.reviewerJwt);
    source = await startShamirVault(join(dir, "source"), 1, 3, 2);
    secrets.push(...secretsOf(source));
    const root = source.rootToken;
    const ok = async (method: string, path: string, body?: unknown) => {
      const res = await source.call(root, method, path, body);
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res;
    };
    for (const tenant of TENANTS) {
      await ok("POST", `sys/mounts/tenants/${tenant}/kv`, { type: "kv", options: { version: "2" } });
      for (const name of ["app", "db", "api"]) {
        const data = { value: randomBytes(12).toString("hex"), owner: tenant };
        await untilKvServes(`POST tenants/${tenant}/kv/data/${name}`, () => source.call(root, "POST", `tenants/${tenant}/kv/data/${name}`, { data }));
        written.set(`tenants/${tenant}/kv/data/${name}`, data);
      }
      await ok("POST", `sys/mounts/tenants/${tenant}/transit`, { type: "transit" });
      await ok("POST", `tenants/${tenant}/transit/keys/orders`, {});
      const plaintext = randomBytes(24).toString("base64");
      const res = await ok("POST", `tenants/${tenant}/transit/encrypt/orders`, { plaintext });
      encrypted.set(tenant, { plaintext, ciphertext: String((res.body.data as { ciphertext: string }).ciphertext) });
    }
    await ok("PUT", "sys/policies/acl/snapshot", { policy: readFileSync(join(__dirname, "..", "..", "..", "policies", "snapshot.hcl"), "utf8") });
    await configureInClusterLogin(ok, k8s, {
      bound_service_account_names: [SERVICE_ACCOUNT],
      bound_service_account_namespaces: [NAMESPACE],
      audience: "vault",
      token_policies: ["snapshot"],
      // As the shared stack declares it (InClusterAuth): no default policy.
      token_no_default_policy: true,
      token_ttl: "15m",
      token_max_ttl: "1h",
    });
  });

  afterAll(async () => {
    await stopAllBao();
    await stopAllFakeGcs();
    await k8s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}
