// Disaster recovery, the snapshot half, with real parts (snapshot-restore-
// world.ts): the built snapshot command, run as a process, stores the source
// vault's Raft snapshot in the bucket with its SHA-256 and cleans up after
// itself, also when it cannot list the bucket or is stopped by a signal; the
// role it logs in with may take a snapshot and nothing else.
import { readdirSync, readFileSync } from "node:fs";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { waitFor } from "../../../__tests__/support/vault-http";
import { findLeaks } from "../support/leak-scan";
import { commandTranscript, expectExit, jsonLines, runCommand, SNAPSHOT_BUNDLE, startCommand } from "../support/snapshot-harness";
import {
  BUCKET,
  dir,
  encrypted,
  ENVIRONMENT,
  gcs,
  k8s,
  NAMESPACE,
  secrets,
  SERVICE_ACCOUNT,
  serviceAccountToken,
  sha256,
  snapshotEnv,
  source,
  TENANTS,
  useSourceWorld,
} from "./snapshot-restore-world";

jest.setTimeout(600_000);

const OBJECT_NAME = /^example\/example-\d{8}T\d{6}Z\.snap$/;

let storedObject: string;

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

useSourceWorld();

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
    const taken = Date.parse(
      `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`,
    );
    expect(Math.abs(Date.now() - taken)).toBeLessThan(120_000);

    expect(readdirSync(join(dir, "spool"))).toEqual([]);
    // Vault asked the TokenReview API about the job's token for the role's audience.
    expect(k8s.reviews.slice(reviewsBefore)).toEqual([
      { specAudiences: ["vault"], authenticated: true, statusAudiences: ["vault"], username: `system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}` },
    ]);
    // No first snapshot to compare with: a warning, not the staleness alert.
    expect(run.lines.some((l) => l.msg === "no earlier snapshot in the bucket")).toBe(true);
  });

  it("revokes its Vault token at the end", async () => {
    const accessors = await source.call(source.rootToken, "LIST", "auth/token/accessors");
    const keys = (accessors.body.data as { keys: string[] }).keys;
    const policies = await Promise.all(
      keys.map(
        async (accessor) => (await source.call(source.rootToken, "POST", "auth/token/lookup-accessor", { accessor })).body.data as { policies?: string[] },
      ),
    );
    expect(policies.filter((p) => p?.policies?.includes("snapshot"))).toEqual([]);
  });

  it("logs the staleness line when the last snapshot is older than SNAPSHOT_MAX_AGE_SEC, and still takes one", async () => {
    await gcs.putObject(BUCKET, "stale/stale-20250101T000000Z.snap", Buffer.from("old"), {
      sha256: sha256(Buffer.from("old")),
      environment: "stale",
      "vault-gke-format": "snapshot/v1",
    });
    const run = await runCommand(SNAPSHOT_BUNDLE, [], snapshotEnv({ ENVIRONMENT: "stale", SNAPSHOT_MAX_AGE_SEC: "7200" }));
    expectExit(run, 0);
    const stale = run.lines.filter((l) => l.msg === "last good snapshot is older than twice the schedule");
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({
      level: "error",
      alert: "vault-snapshot-stale",
      environment: "stale",
      bucket: BUCKET,
      lastObject: "stale/stale-20250101T000000Z.snap",
      lastSnapshotAt: "2025-01-01T00:00:00.000Z",
      maxAgeSec: 7200,
    });
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
    const run = await runCommand(
      SNAPSHOT_BUNDLE,
      [],
      snapshotEnv({ KUBERNETES_TOKEN_FILE: serviceAccountToken(["https://kubernetes.default.svc.cluster.local"]) }),
    );
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
      res.end(
        JSON.stringify({
          error: {
            code: 403,
            message: "vault-snapshot@example.iam.gserviceaccount.com does not have storage.objects.list access to the Google Cloud Storage bucket.",
            errors: [{ reason: "forbidden" }],
          },
        }),
      );
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
    expect(line).toMatchObject({
      level: "error",
      step: "check-last-snapshot",
      environment: "unlisted",
      msg: "could not list earlier snapshots (the job needs storage.objects.list on the bucket); taking one anyway",
    });
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
    expect(run.lines.find((l) => l.level === "error")).toMatchObject({
      msg: "snapshot failed at step upload",
      step: "upload",
      err: expect.objectContaining({ message: "stopped by a signal" }),
    });
    expect(readdirSync(join(dir, "spool"))).toEqual([]);
    const accessors = (await source.call(source.rootToken, "LIST", "auth/token/accessors")).body.data as { keys: string[] };
    const policies = await Promise.all(
      accessors.keys.map(
        async (accessor) => (await source.call(source.rootToken, "POST", "auth/token/lookup-accessor", { accessor })).body.data as { policies?: string[] },
      ),
    );
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

  it("holds only the snapshot policy (no default policy), and may read a snapshot", async () => {
    expect(((await source.call(token, "GET", "auth/token/lookup-self")).body.data as { policies: string[] }).policies.sort()).toEqual(["snapshot"]);
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
    expect(await status("GET", "cubbyhole/anything")).toBe(403); // not even its own cubbyhole: no default policy
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

it("printed no token, key or service account JWT in any command's output", () => {
  expect(commandTranscript.length).toBeGreaterThan(0);
  expect(findLeaks(secrets, commandTranscript.join("\n"))).toEqual([]);
});
