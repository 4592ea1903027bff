// Disaster recovery end to end, with real parts: OpenBao Raft clusters, the
// official Cloud Storage client against fake-gcs-server, Vault's kubernetes
// auth against a TokenReview stand-in, and the built commands run as
// processes. A source vault holds several tenants' secrets and a transit key;
// the snapshot command stores its Raft snapshot; a new 3-node cluster takes
// it with the restore command and, unsealed with the source's keys, serves
// every secret again. Bad inputs (a missing or corrupted object, a target
// that is not empty, not ready or not writable with the given token) are
// refused, and a dry run changes nothing. With --force a vault takes back its
// own snapshot: tokens revoked since are valid again, tokens made since are
// gone, and leases that expired since are revoked.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopAllBao } from "../../../__tests__/support/bao";
import { startFakeGcs, stopAllFakeGcs, type FakeGcs } from "../../../__tests__/support/fake-gcs";
import { startRaftCluster, waitForActive } from "../../../__tests__/support/raft-cluster";
import { exampleEnv } from "../../../__tests__/helpers";
import { vaultServerConfigProps } from "../../../stacks/vault-server-settings";
import { startTokenReviewStandIn, type TokenReviewStandIn } from "../../../__tests__/support/token-review-stand-in";
import { vaultRequest, waitFor } from "../../../__tests__/support/vault-http";
import { findLeaks } from "../support/leak-scan";
import { commandTranscript, expectExit, jsonLines, RESTORE_BUNDLE, runCommand, sealStates, SNAPSHOT_BUNDLE, startCommand, startShamirVault, unsealWith, vaultState, type ShamirVault } from "../support/snapshot-harness";

jest.setTimeout(600_000);

const ENVIRONMENT = "example";
const BUCKET = "example-project-example-vault-snapshots";
const NAMESPACE = "vault";
const SERVICE_ACCOUNT = "vault-snapshot";
const TENANTS = ["alpha", "bravo", "charlie"];
const OBJECT_NAME = /^example\/example-\d{8}T\d{6}Z\.snap$/;

let dir: string;
let gcs: FakeGcs;
let k8s: TokenReviewStandIn;
let source: ShamirVault;
let target: ShamirVault;
/** Secrets written into the source: path -> data. */
const written = new Map<string, Record<string, string>>();
/** Transit ciphertexts: tenant -> { ciphertext, plaintext (base64) }. */
const encrypted = new Map<string, { ciphertext: string; plaintext: string }>();
/** Every token, key and JWT this test made: none may appear in any output. */
const secrets: string[] = [];
let storedObject: string;

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function serviceAccountToken(audiences: string[]): string {
  const jwt = k8s.issue({ namespace: NAMESPACE, serviceAccount: SERVICE_ACCOUNT, audiences, ttlSec: 600 });
  secrets.push(jwt);
  const file = join(dir, `token-${secrets.length}`);
  writeFileSync(file, jwt);
  return file;
}

function snapshotEnv(extra: Record<string, string> = {}): Record<string, string> {
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

async function restoreEnv(into: ShamirVault, token: string): Promise<Record<string, string>> {
  return {
    VAULT_ADDR: (await into.active()).addr,
    VAULT_CACERT: into.cluster.pki.caCertFile,
    VAULT_TOKEN: token,
    SPOOL_DIR: join(dir, "restore-spool"),
    STORAGE_EMULATOR_HOST: gcs.url,
  };
}

const restore = async (args: string[], env: Record<string, string>) => runCommand(RESTORE_BUNDLE, ["--bucket", BUCKET, "--environment", ENVIRONMENT, ...args], env);

/**
 * A Cloud Storage front: `intercept` answers (or holds) the requests it
 * claims; everything else passes through to fake-gcs-server.
 */
async function startGcsFront(intercept: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<{ url: string; close(): Promise<void> }> {
  const front = createServer((req, res) => {
    if (intercept(req, res)) return;
    const upstream = httpRequest(`${gcs.url}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(front.address() as AddressInfo).port}`,
    close: async () => {
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}

/** Creates a token on `vault` (root) and returns it with its accessor. */
async function createToken(vault: ShamirVault, body: Record<string, unknown>): Promise<{ token: string; accessor: string }> {
  const res = await vault.call(vault.rootToken, "POST", "auth/token/create", body);
  if (res.status !== 200) throw new Error(`token create: ${res.status} ${JSON.stringify(res.body)}`);
  const auth = res.body.auth as { client_token: string; accessor: string };
  secrets.push(auth.client_token);
  return { token: auth.client_token, accessor: auth.accessor };
}

function secretsOf(vault: ShamirVault): string[] {
  const hex = vault.keys.map((k) => Buffer.from(k, "base64").toString("hex"));
  return [vault.rootToken, ...vault.keys, ...hex];
}

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
      await ok("POST", `tenants/${tenant}/kv/data/${name}`, { data });
      written.set(`tenants/${tenant}/kv/data/${name}`, data);
    }
    await ok("POST", `sys/mounts/tenants/${tenant}/transit`, { type: "transit" });
    await ok("POST", `tenants/${tenant}/transit/keys/orders`, {});
    const plaintext = randomBytes(24).toString("base64");
    const res = await ok("POST", `tenants/${tenant}/transit/encrypt/orders`, { plaintext });
    encrypted.set(tenant, { plaintext, ciphertext: String((res.body.data as { ciphertext: string }).ciphertext) });
  }
  await ok("PUT", "sys/policies/acl/snapshot", { policy: readFileSync(join(__dirname, "..", "..", "..", "policies", "snapshot.hcl"), "utf8") });
  await ok("POST", "sys/auth/in-cluster", { type: "kubernetes" });
  await ok("POST", "auth/in-cluster/config", { kubernetes_host: k8s.url, kubernetes_ca_cert: k8s.caPem, token_reviewer_jwt: k8s.reviewerJwt, issuer: k8s.issuer, disable_local_ca_jwt: true });
  await ok("POST", "auth/in-cluster/role/snapshot", {
    bound_service_account_names: [SERVICE_ACCOUNT],
    bound_service_account_namespaces: [NAMESPACE],
    audience: "vault",
    token_policies: ["snapshot"],
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

describe("snapshot command", () => {
  it("stores the Raft snapshot as <env>/<env>-<UTC time>.snap with its SHA-256, and cleans up", async () => {
    const reviewsBefore = k8s.reviews.length;
    const run = await runCommand(SNAPSHOT_BUNDLE, [], snapshotEnv());
    expectExit(run, 0);
    const stored = run.lines.filter((l) => l.msg === "snapshot stored");
    expect(stored).toHaveLength(1);
    const line = stored[0];
    expect(line).toMatchObject({ level: "info", environment: ENVIRONMENT, bucket: BUCKET });
    expect(String(line.object)).toMatch(OBJECT_NAME);
    expect(typeof line.durationMs).toBe("number");
    storedObject = String(line.object);

    const object = await gcs.describeObject(BUCKET, storedObject);
    const bytes = await gcs.getObject(BUCKET, storedObject);
    expect(object?.metadata).toEqual({ sha256: sha256(bytes), environment: ENVIRONMENT, "vault-gke-format": "snapshot/v1" });
    expect(line.sha256).toBe(sha256(bytes));
    expect(line.bytes).toBe(bytes.length);
    expect(object?.crc32c).toBe(line.crc32c);
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // a gzip snapshot archive
    // The name carries the time the snapshot was taken, in UTC.
    const stamp = /example-(\d{8}T\d{6}Z)/.exec(storedObject)?.[1] as string;
    const taken = Date.parse(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`);
    expect(Math.abs(Date.now() - taken)).toBeLessThan(120_000);

    expect(readdirSync(join(dir, "spool"))).toEqual([]);
    // Vault asked the TokenReview API about the job's token for the role's audience.
    expect(k8s.reviews.slice(reviewsBefore)).toEqual([{ specAudiences: ["vault"], authenticated: true, statusAudiences: ["vault"], username: `system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}` }]);
    // No first snapshot to compare with: a warning, not the staleness alert.
    expect(run.lines.some((l) => l.msg === "no earlier snapshot in the bucket")).toBe(true);
  });

  it("revokes its Vault token at the end", async () => {
    const accessors = await source.call(source.rootToken, "LIST", "auth/token/accessors");
    const keys = (accessors.body.data as { keys: string[] }).keys;
    const policies = await Promise.all(keys.map(async (accessor) => (await source.call(source.rootToken, "POST", "auth/token/lookup-accessor", { accessor })).body.data as { policies?: string[] }));
    expect(policies.filter((p) => p?.policies?.includes("snapshot"))).toEqual([]);
  });

  it("logs the staleness line when the last snapshot is older than SNAPSHOT_MAX_AGE_SEC, and still takes one", async () => {
    await gcs.putObject(BUCKET, "stale/stale-20250101T000000Z.snap", Buffer.from("old"), { sha256: sha256(Buffer.from("old")), environment: "stale", "vault-gke-format": "snapshot/v1" });
    const run = await runCommand(SNAPSHOT_BUNDLE, [], snapshotEnv({ ENVIRONMENT: "stale", SNAPSHOT_MAX_AGE_SEC: "7200" }));
    expectExit(run, 0);
    const stale = run.lines.filter((l) => l.msg === "last good snapshot is older than twice the schedule");
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ level: "error", alert: "vault-snapshot-stale", environment: "stale", bucket: BUCKET, lastObject: "stale/stale-20250101T000000Z.snap", lastSnapshotAt: "2025-01-01T00:00:00.000Z", maxAgeSec: 7200 });
    expect(Number(stale[0].ageSec)).toBeGreaterThan(7200);
    expect(run.lines.filter((l) => l.msg === "snapshot stored")).toHaveLength(1);
    // A fresh snapshot is not stale on the next run (in the next second: names have a one-second resolution).
    const second = Math.floor(Date.now() / 1000);
    await waitFor("the next second", async () => (Math.floor(Date.now() / 1000) > second ? true : undefined), 2000, 20);
    const next = await runCommand(SNAPSHOT_BUNDLE, [], snapshotEnv({ ENVIRONMENT: "stale", SNAPSHOT_MAX_AGE_SEC: "7200" }));
    expectExit(next, 0);
    expect(next.lines.find((l) => l.msg === "last snapshot")).toMatchObject({ level: "info", environment: "stale", maxAgeSec: 7200 });
    expect(next.lines.some((l) => l.msg === "last good snapshot is older than twice the schedule")).toBe(false);
  });

  it("fails at the login step, storing nothing, with a token for another audience", async () => {
    const before = await gcs.listObjects(BUCKET, `${ENVIRONMENT}/`);
    const run = await runCommand(SNAPSHOT_BUNDLE, [], snapshotEnv({ KUBERNETES_TOKEN_FILE: serviceAccountToken(["https://kubernetes.default.svc.cluster.local"]) }));
    expectExit(run, 1);
    const failed = run.lines.find((l) => l.level === "error");
    expect(failed).toMatchObject({ msg: "snapshot failed at step login", step: "login" });
    expect(JSON.stringify(failed)).toMatch(/auth\/in-cluster.*HTTP 403/);
    expect(await gcs.listObjects(BUCKET, `${ENVIRONMENT}/`)).toEqual(before);
    expect(readdirSync(join(dir, "spool"))).toEqual([]);
  });
});

describe("snapshot command without storage.objects.list", () => {
  /** A Cloud Storage front that refuses every listing as GCS does without storage.objects.list. */
  let front: Awaited<ReturnType<typeof startGcsFront>>;
  beforeAll(async () => {
    front = await startGcsFront((req, res) => {
      if (req.method !== "GET" || !/^\/storage\/v1\/b\/[^/]+\/o(\?|$)/.test(req.url ?? "")) return false;
      res.writeHead(403, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: 403, message: "vault-snapshot@example.iam.gserviceaccount.com does not have storage.objects.list access to the Google Cloud Storage bucket.", errors: [{ reason: "forbidden" }] } }));
      return true;
    });
  });
  afterAll(async () => {
    await front.close();
  });

  it("logs `could not list earlier snapshots` as an error and still stores a snapshot", async () => {
    const run = await runCommand(SNAPSHOT_BUNDLE, [], snapshotEnv({ ENVIRONMENT: "unlisted", STORAGE_EMULATOR_HOST: front.url }));
    expectExit(run, 0);
    const line = run.lines.find((l) => String(l.msg).startsWith("could not list earlier snapshots"));
    expect(line).toMatchObject({ level: "error", step: "check-last-snapshot", environment: "unlisted", msg: "could not list earlier snapshots (the job needs storage.objects.list on the bucket); taking one anyway" });
    expect(JSON.stringify(line?.err)).toContain("HTTP 403");
    expect(run.lines.filter((l) => l.msg === "snapshot stored")).toHaveLength(1);
    expect(await gcs.listObjects(BUCKET, "unlisted/")).toHaveLength(1);
  });
});

describe("snapshot command stopped by a signal", () => {
  /** A Cloud Storage front that passes everything to fake-gcs-server but never answers an upload. */
  let front: Awaited<ReturnType<typeof startGcsFront>>;
  let frontUrl: string;
  beforeAll(async () => {
    front = await startGcsFront((req) => Boolean(req.url?.startsWith("/upload/"))); // hangs, as a stalled upload would
    frontUrl = front.url;
  });
  afterAll(async () => {
    await front.close();
  });

  it("on SIGTERM during the upload removes the spool file, revokes its token and exits 1 naming the step", async () => {
    const started = startCommand(SNAPSHOT_BUNDLE, [], snapshotEnv({ STORAGE_EMULATOR_HOST: frontUrl }));
    await waitFor("the snapshot spooled", async () => (jsonLines(started.stdout()).some((l) => l.msg === "snapshot spooled") ? true : undefined), 60_000, 20);
    expect(readdirSync(join(dir, "spool"))).toHaveLength(1);
    started.child.kill("SIGTERM");
    const run = await started.done;
    expectExit(run, 1);
    expect(run.lines.find((l) => l.level === "error")).toMatchObject({ msg: "snapshot failed at step upload", step: "upload", err: expect.objectContaining({ message: "stopped by a signal" }) });
    expect(readdirSync(join(dir, "spool"))).toEqual([]);
    const accessors = (await source.call(source.rootToken, "LIST", "auth/token/accessors")).body.data as { keys: string[] };
    const policies = await Promise.all(accessors.keys.map(async (accessor) => (await source.call(source.rootToken, "POST", "auth/token/lookup-accessor", { accessor })).body.data as { policies?: string[] }));
    expect(policies.filter((p) => p?.policies?.includes("snapshot"))).toEqual([]);
  });
});

describe("the snapshot role", () => {
  let token: string;
  const status = async (method: string, path: string, body?: unknown) => (await source.call(token, method, path, body)).status;

  beforeAll(async () => {
    const jwt = readFileSync(serviceAccountToken(["vault"]), "utf8");
    const login = await source.call("", "POST", "auth/in-cluster/login", { role: "snapshot", jwt });
    token = String((login.body.auth as { client_token: string }).client_token);
    secrets.push(token);
  });
  afterAll(async () => {
    await source.call(token, "POST", "auth/token/revoke-self");
  });

  it("holds only the snapshot and default policies, and may read a snapshot", async () => {
    expect(((await source.call(token, "GET", "auth/token/lookup-self")).body.data as { policies: string[] }).policies.sort()).toEqual(["default", "snapshot"]);
    expect(await status("GET", "sys/storage/raft/snapshot")).toBe(200);
  });

  it("cannot read, list or write any secret (403 from the real server)", async () => {
    for (const tenant of TENANTS) {
      expect(await status("GET", `tenants/${tenant}/kv/data/app`)).toBe(403);
      expect(await status("LIST", `tenants/${tenant}/kv/metadata`)).toBe(403);
      expect(await status("POST", `tenants/${tenant}/kv/data/app`, { data: { value: "x" } })).toBe(403);
      expect(await status("DELETE", `tenants/${tenant}/kv/metadata/app`)).toBe(403);
      expect(await status("POST", `tenants/${tenant}/transit/decrypt/orders`, { ciphertext: encrypted.get(tenant)?.ciphertext })).toBe(403);
      expect(await status("GET", `tenants/${tenant}/transit/export/encryption-key/orders`)).toBe(403);
    }
    expect(await status("GET", "cubbyhole/anything")).toBe(404); // its own cubbyhole (default policy) is empty
    expect(await status("GET", "sys/raw/core/keyring")).toBe(403);
  });

  it("cannot read, list or write policies or auth configuration, nor restore a snapshot", async () => {
    expect(await status("GET", "sys/policies/acl/snapshot")).toBe(403);
    expect(await status("LIST", "sys/policies/acl")).toBe(403);
    expect(await status("PUT", "sys/policies/acl/snapshot", { policy: 'path "*" { capabilities = ["sudo", "read"] }' })).toBe(403);
    expect(await status("DELETE", "sys/policies/acl/snapshot")).toBe(403);
    expect(await status("GET", "sys/auth")).toBe(403);
    expect(await status("POST", "sys/auth/evil", { type: "userpass" })).toBe(403);
    expect(await status("GET", "auth/in-cluster/config")).toBe(403);
    expect(await status("POST", "auth/in-cluster/config", { kubernetes_host: "https://evil.example" })).toBe(403);
    expect(await status("GET", "auth/in-cluster/role/snapshot")).toBe(403);
    expect(await status("LIST", "auth/in-cluster/role")).toBe(403);
    expect(await status("POST", "auth/in-cluster/role/snapshot", { token_policies: ["root"] })).toBe(403);
    expect(await status("GET", "sys/mounts")).toBe(403);
    expect(await status("POST", "sys/mounts/evil", { type: "kv" })).toBe(403);
    expect(await status("POST", "auth/token/create", { policies: ["snapshot"] })).toBe(403);
    expect(await status("POST", "sys/storage/raft/snapshot-force")).toBe(403);
    expect(await status("POST", "sys/storage/raft/snapshot")).toBe(403);
  });
});

describe("restore command into a vault that is not ready", () => {
  /** One server from the shipped configuration, not initialized. */
  let fresh: Awaited<ReturnType<typeof startRaftCluster>>;
  const env = (token: string) => ({ VAULT_ADDR: fresh.servers[0].addr, VAULT_CACERT: fresh.pki.caCertFile, VAULT_TOKEN: token, SPOOL_DIR: join(dir, "restore-spool"), STORAGE_EMULATOR_HOST: gcs.url });
  beforeAll(async () => {
    const example = exampleEnv({ vault: { distribution: "openbao", replicas: 1, seal: "shamir" } });
    fresh = await startRaftCluster(join(dir, "fresh"), vaultServerConfigProps(example), example.vault.namespace, example.vault.hostname, { type: "shamir" });
  });
  afterAll(async () => {
    await Promise.all(fresh.servers.map((s) => s.kill()));
  });

  it("refuses an uninitialized vault (exit 3)", async () => {
    const run = await restore(["--latest"], env("not-a-token-of-anything"));
    expectExit(run, 3);
    expect(run.lines.find((l) => l.level === "error")?.msg).toBe(`${fresh.servers[0].addr} is not initialized; initialize it (the bootstrap sidecar does) before restoring into it`);
    expect(run.lines.some((l) => l.msg === "snapshot chosen")).toBe(false);
    expect(readdirSync(join(dir, "restore-spool"))).toEqual([]);
  });

  it("refuses a sealed vault (exit 3)", async () => {
    const [server] = fresh.servers;
    const init = await vaultRequest(server.addr, server.ca, "PUT", "/v1/sys/init", { body: { secret_shares: 1, secret_threshold: 1 }, timeoutMs: 60_000 });
    expect(init.status).toBe(200);
    const rootToken = String(init.body.root_token);
    secrets.push(rootToken, ...(init.body.keys_base64 as string[]));
    const run = await restore(["--latest"], env(rootToken));
    expectExit(run, 3);
    expect(run.lines.find((l) => l.level === "error")?.msg).toBe(`${server.addr} is sealed; unseal it with its own keys before restoring into it`);
    expect(run.lines.some((l) => l.msg === "snapshot chosen")).toBe(false);
    expect((await vaultRequest(server.addr, server.ca, "GET", "/v1/sys/health")).status).toBe(503);
  });
});

describe("restore command", () => {
  beforeAll(async () => {
    target = await startShamirVault(join(dir, "target"), 3, 1, 1);
    secrets.push(...secretsOf(target));
  });

  it("names a missing object and says how to find one", async () => {
    const missing = `${ENVIRONMENT}/${ENVIRONMENT}-20000101T000000Z.snap`;
    const run = await restore(["--object", missing, "--dry-run"], { STORAGE_EMULATOR_HOST: gcs.url });
    expectExit(run, 1);
    const error = run.lines.find((l) => l.level === "error");
    expect(String(error?.msg)).toContain(`gs://${BUCKET}/${missing} does not exist`);
    expect(String(error?.msg)).toContain(`gcloud storage ls -l gs://${BUCKET}/${ENVIRONMENT}/`);
    expect(String(error?.msg)).toContain("--latest");
  });

  it("refuses an object without the recorded SHA-256 (exit 3)", async () => {
    const name = `${ENVIRONMENT}/${ENVIRONMENT}-20010101T000000Z.snap`;
    await gcs.putObject(BUCKET, name, await gcs.getObject(BUCKET, storedObject));
    const run = await restore(["--object", name, "--dry-run"], { STORAGE_EMULATOR_HOST: gcs.url });
    await gcs.deleteObject(BUCKET, name);
    expectExit(run, 3);
    expect(run.lines.find((l) => l.level === "error")).toMatchObject({ reasons: expect.arrayContaining([expect.stringMatching(/metadata sha256 is null/)]) });
  });

  it("refuses a corrupted object by its SHA-256 and leaves the target as it was", async () => {
    const original = await gcs.getObject(BUCKET, storedObject);
    const metadata = { ...(await gcs.describeObject(BUCKET, storedObject))?.metadata } as Record<string, string>;
    const corrupted = Buffer.from(original);
    corrupted[Math.floor(corrupted.length / 2)] ^= 0xff;
    await gcs.putObject(BUCKET, storedObject, corrupted, metadata);
    try {
      const before = await vaultState(target, target.rootToken);
      const run = await restore(["--latest"], await restoreEnv(target, target.rootToken));
      expectExit(run, 3);
      const refusal = run.lines.find((l) => l.level === "error");
      expect(String(refusal?.msg)).toMatch(new RegExp(`refusing gs://${BUCKET}/${storedObject}: its SHA-256 is [0-9a-f]{64} but ${metadata.sha256} was recorded`));
      expect(await vaultState(target, target.rootToken)).toEqual(before);
      expect(readdirSync(join(dir, "restore-spool"))).toEqual([]);
    } finally {
      await gcs.putObject(BUCKET, storedObject, original, metadata);
    }
  });

  it("refuses a target that is not empty unless --force, and says what it holds", async () => {
    const before = await vaultState(source, source.rootToken);
    const run = await restore(["--latest"], await restoreEnv(source, source.rootToken));
    expectExit(run, 3);
    const refusal = run.lines.find((l) => l.level === "error");
    expect(String(refusal?.msg)).toContain("is not empty");
    expect(String(refusal?.msg)).toContain("--force");
    expect(refusal?.reasons).toEqual(
      expect.arrayContaining([expect.stringContaining("secrets engines: tenants/alpha/kv/ (kv)"), expect.stringContaining("auth methods: in-cluster/ (kubernetes)")]),
    );
    expect(await vaultState(source, source.rootToken)).toEqual(before);
  });

  it("refuses a standby (exit 3) and says to use the active server", async () => {
    const active = await target.active();
    const standby = target.cluster.servers.find((s) => s !== active) as (typeof target.cluster.servers)[number];
    const before = await vaultState(target, target.rootToken);
    const run = await restore(["--latest"], { ...(await restoreEnv(target, target.rootToken)), VAULT_ADDR: standby.addr });
    expectExit(run, 3);
    expect(run.lines.find((l) => l.level === "error")?.msg).toBe(`${standby.addr} is a standby; point VAULT_ADDR at the active server (the vault-active service)`);
    expect(run.lines.some((l) => l.msg === "snapshot chosen")).toBe(false);
    expect(await vaultState(target, target.rootToken)).toEqual(before);
  });

  it("refuses a token without update on sys/storage/raft/snapshot-force (exit 3), one without the default policy, and one that is not valid", async () => {
    const tokenRefusal = async (token: string) => {
      const before = await vaultState(target, target.rootToken);
      const run = await restore(["--latest"], await restoreEnv(target, token));
      expectExit(run, 3);
      expect(run.lines.some((l) => l.msg === "snapshot chosen")).toBe(false);
      expect(await vaultState(target, target.rootToken)).toEqual(before);
      return run.lines.find((l) => l.level === "error")?.msg;
    };
    const refusedBy403 = "VAULT_TOKEN was refused by the target vault (HTTP 403 on sys/capabilities-self): it is not valid there, or lacks the default policy; use a root token of the target vault";
    await target.call(target.rootToken, "PUT", "sys/policies/acl/restore-read-only", { policy: 'path "sys/storage/raft/snapshot-force" { capabilities = ["read"] }' });
    const readOnly = await createToken(target, { policies: ["restore-read-only"], ttl: "10m" });
    const noDefault = await createToken(target, { policies: ["restore-read-only"], no_default_policy: true, ttl: "10m" });
    try {
      expect(await tokenRefusal(readOnly.token)).toBe("VAULT_TOKEN may not restore (capabilities on sys/storage/raft/snapshot-force: read); use a root token of the target vault");
      expect(await tokenRefusal(noDefault.token)).toBe(refusedBy403);
    } finally {
      for (const { accessor } of [readOnly, noDefault]) await target.call(target.rootToken, "POST", "auth/token/revoke-accessor", { accessor });
      await target.call(target.rootToken, "DELETE", "sys/policies/acl/restore-read-only");
    }
    expect(await tokenRefusal(readOnly.token)).toBe(refusedBy403);
  });

  it("--dry-run downloads and verifies, and changes nothing on the target", async () => {
    const before = await vaultState(target, target.rootToken);
    const run = await restore(["--latest", "--dry-run"], await restoreEnv(target, target.rootToken));
    expectExit(run, 0);
    const done = run.lines.at(-1);
    expect(done).toMatchObject({ msg: "dry run: the snapshot is intact and the target would accept it; nothing was changed", restored: false, object: storedObject });
    expect(run.lines.some((l) => l.msg === "snapshot downloaded and its SHA-256 verified")).toBe(true);
    // The new cluster's own root token still works: a restore would have replaced its token store.
    expect(await vaultState(target, target.rootToken)).toEqual(before);
    expect(before).toMatchObject({ tokenValid: true, sealed: false, mounts: ["cubbyhole/", "identity/", "sys/"], auth: ["token/"] });
  });

  it("restores the latest snapshot into a new 3-node cluster; unsealed with the source's keys it serves every secret again", async () => {
    const run = await restore(["--latest"], await restoreEnv(target, target.rootToken));
    expectExit(run, 0);
    expect(run.lines.at(-1)).toMatchObject({ msg: "restored; the target sealed itself", restored: true, object: storedObject, sealedAfter: true });
    expect(String(run.lines.at(-1)?.next)).toContain("unseal every server with the unseal keys of the vault the snapshot came from");

    // The new cluster's own key no longer opens it.
    const [first] = target.cluster.servers;
    const wrong = await vaultRequest(first.addr, first.ca, "PUT", "/v1/sys/unseal", { body: { key: target.keys[0] } });
    expect(wrong.body.sealed === false).toBe(false);
    // A sealed server keeps the seal configuration (share count) it read at start: restart each one
    // so it reads the snapshot's (3 shares, threshold 2; the new cluster had 1), then the source's keys open it.
    for (const server of target.cluster.servers) {
      await server.stop();
      await server.start();
    }
    for (const server of target.cluster.servers) await unsealWith(server, source.keys, source.threshold, 20_000).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await sealStates(target.cluster)}\n${server.output.slice(-3000)}`);
    });
    await waitFor(
      "one active and two unsealed standbys",
      async () => {
        const states = await Promise.all(target.cluster.servers.map((s) => vaultRequest(s.addr, s.ca, "GET", "/v1/sys/health").then((r) => r.status, () => 0)));
        return states.filter((s) => s === 200).length === 1 && states.filter((s) => s === 429).length === 2 ? true : undefined;
      },
      60_000,
      200,
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await sealStates(target.cluster)}\n${target.cluster.servers.map((s) => `${s.name}:\n${s.output.slice(-2500)}`).join("\n")}`);
    });
    await waitForActive(target.cluster.servers);

    // Tokens come back as of the snapshot: the source's root token works, the new cluster's does not.
    expect((await target.call(target.rootToken, "GET", "auth/token/lookup-self")).status).toBe(403);
    for (const [path, data] of written) {
      const res = await target.call(source.rootToken, "GET", path);
      expect([path, res.status, (res.body.data as { data?: unknown } | undefined)?.data]).toEqual([path, 200, data]);
    }
    for (const [tenant, { ciphertext, plaintext }] of encrypted) {
      const res = await target.call(source.rootToken, "POST", `tenants/${tenant}/transit/decrypt/orders`, { ciphertext });
      expect([tenant, res.status, (res.body.data as { plaintext?: string } | undefined)?.plaintext]).toEqual([tenant, 200, plaintext]);
    }
    // The restored auth configuration still logs the snapshot job in.
    const login = await target.call("", "POST", "auth/in-cluster/login", { role: "snapshot", jwt: readFileSync(serviceAccountToken(["vault"]), "utf8") });
    expect(login.status).toBe(200);
    secrets.push(String((login.body.auth as { client_token: string }).client_token));
    expect(readdirSync(join(dir, "restore-spool"))).toEqual([]);
  });

  it("with --force a vault takes back its own snapshot and stays unsealed: revoked tokens are valid again, newer ones gone, expired leases revoked", async () => {
    const lookup = async (token: string) => (await source.call(token, "GET", "auth/token/lookup-self")).status;
    // A token's lease is auth/token/create/<id>: the list before and after making one tells which is its.
    const tokenLeases = async () => {
      const res = await source.call(source.rootToken, "LIST", "sys/leases/lookup/auth/token/create/");
      return ((res.body.data as { keys?: string[] } | undefined)?.keys ?? []).map((k) => `auth/token/create/${k}`);
    };
    const leasesBefore = await tokenLeases();
    const expiring = await createToken(source, { policies: ["default"], ttl: "15s" });
    const expiringLeases = (await tokenLeases()).filter((id) => !leasesBefore.includes(id));
    const revokedLater = await createToken(source, { policies: ["default"], ttl: "1h" });
    const second = Math.floor(Date.now() / 1000);
    await waitFor("the next second", async () => (Math.floor(Date.now() / 1000) > second ? true : undefined), 2000, 20);
    const snap = await runCommand(SNAPSHOT_BUNDLE, [], snapshotEnv());
    expectExit(snap, 0);
    const object = String(snap.lines.find((l) => l.msg === "snapshot stored")?.object);
    // Both tokens (and the short one's lease) are in the snapshot.
    expect([await lookup(revokedLater.token), await lookup(expiring.token)]).toEqual([200, 200]);
    const expireTime = async (token: string) => ((await source.call(token, "GET", "auth/token/lookup-self")).body.data as { expire_time?: string } | undefined)?.expire_time;
    const revokedLaterExpires = await expireTime(revokedLater.token);
    expect(revokedLaterExpires).toEqual(expect.any(String));
    expect(expiringLeases).toHaveLength(1);

    // After the snapshot: one token revoked, one made, the short one expires.
    await source.call(source.rootToken, "POST", "auth/token/revoke-accessor", { accessor: revokedLater.accessor });
    const madeLater = await createToken(source, { policies: ["default"], ttl: "1h" });
    await waitFor("the short token to expire", async () => ((await lookup(expiring.token)) === 403 ? true : undefined), 30_000, 500);
    expect([await lookup(revokedLater.token), await lookup(madeLater.token)]).toEqual([403, 200]);

    const refused = await restore(["--object", object], await restoreEnv(source, source.rootToken));
    expectExit(refused, 3);
    expect(String(refused.lines.find((l) => l.level === "error")?.msg)).toContain("is not empty");
    expect(refused.lines.some((l) => l.msg === "snapshot chosen")).toBe(false);
    const run = await restore(["--object", object, "--force"], await restoreEnv(source, source.rootToken));
    expectExit(run, 0);
    expect(run.lines.some((l) => l.msg === "target vault is not empty; going on because of --force")).toBe(true);
    expect(run.lines.at(-1)).toMatchObject({ msg: "restored; the target is unsealed (its seal also unwraps the snapshot's keyring)", restored: true, sealedAfter: false, object });

    expect(await lookup(revokedLater.token)).toBe(200);
    expect(await expireTime(revokedLater.token)).toBe(revokedLaterExpires); // with its original expiry time
    expect(await lookup(madeLater.token)).toBe(403);
    // The expired token's lease came back with the snapshot and is revoked again.
    await waitFor(
      "the expired lease revoked",
      async () => {
        const found = await Promise.all(expiringLeases.map(async (lease_id) => (await source.call(source.rootToken, "PUT", "sys/leases/lookup", { lease_id })).status));
        return found.every((status) => status === 400) ? true : undefined;
      },
      30_000,
      500,
    );
    expect(await lookup(expiring.token)).toBe(403);
  });
});

it("printed no token, key or service account JWT in any command's output", () => {
  expect(commandTranscript.length).toBeGreaterThan(0);
  expect(findLeaks(secrets, commandTranscript.join("\n"))).toEqual([]);
});
