// Disaster recovery, the restore half, with real parts (snapshot-restore-
// world.ts): the snapshot command stores the source vault's Raft snapshot; a
// new 3-node cluster takes it with the restore command and, unsealed with the
// source's keys, serves every secret again. Bad inputs (a missing or
// corrupted object, a target that is not empty, not ready or not writable
// with the given token) are refused, and a dry run changes nothing. With
// --force a vault takes back its own snapshot: tokens revoked since are valid
// again, tokens made since are gone, and leases that expired since are revoked.
// On HashiCorp Vault the restore of the 1-server source removes the target's two
// other servers from the cluster; the test then performs the runbook's step for
// them (docs/disaster-recovery.md, "Servers removed from the cluster after a
// restore") before checking the cluster.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DISTRIBUTION } from "../../../__tests__/support/bao";
import { startRaftCluster, waitForActive } from "../../../__tests__/support/raft-cluster";
import { exampleEnv } from "../../../__tests__/helpers";
import { vaultServerConfigProps } from "../../../stacks/vault-server-settings";
import { vaultRequest, waitFor } from "../../../__tests__/support/vault-http";
import { findLeaks } from "../support/leak-scan";
import {
  commandTranscript,
  expectExit,
  rejoinRemovedServers,
  RESTORE_BUNDLE,
  runCommand,
  sealStates,
  SNAPSHOT_BUNDLE,
  startShamirVault,
  unsealWith,
  vaultState,
  type ShamirVault,
} from "../support/snapshot-harness";
import {
  BUCKET,
  dir,
  encrypted,
  ENVIRONMENT,
  gcs,
  secrets,
  secretsOf,
  serviceAccountToken,
  snapshotEnv,
  source,
  useSourceWorld,
  written,
} from "./snapshot-restore-world";

jest.setTimeout(600_000);

let target: ShamirVault;
let storedObject: string;

async function restoreEnv(into: ShamirVault, token: string): Promise<Record<string, string>> {
  return {
    VAULT_ADDR: (await into.active()).addr,
    VAULT_CACERT: into.cluster.pki.caCertFile,
    VAULT_TOKEN: token,
    SPOOL_DIR: join(dir, "restore-spool"),
    STORAGE_EMULATOR_HOST: gcs.url,
  };
}

const restore = async (args: string[], env: Record<string, string>) =>
  runCommand(RESTORE_BUNDLE, ["--bucket", BUCKET, "--environment", ENVIRONMENT, ...args], env);

/** Creates a token on `vault` (root) and returns it with its accessor. */
async function createToken(vault: ShamirVault, body: Record<string, unknown>): Promise<{ token: string; accessor: string }> {
  const res = await vault.call(vault.rootToken, "POST", "auth/token/create", body);
  if (res.status !== 200) throw new Error(`token create: ${res.status} ${JSON.stringify(res.body)}`);
  const auth = res.body.auth as { client_token: string; accessor: string };
  secrets.push(auth.client_token);
  return { token: auth.client_token, accessor: auth.accessor };
}

useSourceWorld();

/** The snapshot every restore below starts from (the snapshot command's own tests are in snapshot-restore-snapshot-command). */
beforeAll(async () => {
  const run = await runCommand(SNAPSHOT_BUNDLE, [], snapshotEnv());
  expectExit(run, 0);
  storedObject = String(run.lines.find((l) => l.msg === "snapshot stored")?.object);
});

describe("restore command into a vault that is not ready", () => {
  /** One server from the shipped configuration, not initialized. */
  let fresh: Awaited<ReturnType<typeof startRaftCluster>>;
  const env = (token: string) => ({
    VAULT_ADDR: fresh.servers[0].addr,
    VAULT_CACERT: fresh.pki.caCertFile,
    VAULT_TOKEN: token,
    SPOOL_DIR: join(dir, "restore-spool"),
    STORAGE_EMULATOR_HOST: gcs.url,
  });
  beforeAll(async () => {
    const example = exampleEnv({ vault: { distribution: DISTRIBUTION, replicas: 1, seal: "shamir" } });
    fresh = await startRaftCluster(join(dir, "fresh"), vaultServerConfigProps(example), example.vault.namespace, example.vault.hostname, { type: "shamir" });
  });
  afterAll(async () => {
    await Promise.all(fresh.servers.map((s) => s.kill()));
  });

  it("refuses an uninitialized vault (exit 3)", async () => {
    const run = await restore(["--latest"], env("not-a-token-of-anything"));
    expectExit(run, 3);
    expect(run.lines.find((l) => l.level === "error")?.msg).toBe(
      `${fresh.servers[0].addr} is not initialized; initialize it (the bootstrap sidecar does) before restoring into it`,
    );
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
      expect(String(refusal?.msg)).toMatch(
        new RegExp(`refusing gs://${BUCKET}/${storedObject}: its SHA-256 is [0-9a-f]{64} but ${metadata.sha256} was recorded`),
      );
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
      expect.arrayContaining([
        expect.stringContaining("secrets engines: tenants/alpha/kv/ (kv)"),
        expect.stringContaining("auth methods: in-cluster/ (kubernetes)"),
      ]),
    );
    expect(await vaultState(source, source.rootToken)).toEqual(before);
  });

  it("refuses a standby (exit 3) and says to use the active server", async () => {
    const active = await target.active();
    const standby = target.cluster.servers.find((s) => s !== active) as (typeof target.cluster.servers)[number];
    const before = await vaultState(target, target.rootToken);
    const run = await restore(["--latest"], { ...(await restoreEnv(target, target.rootToken)), VAULT_ADDR: standby.addr });
    expectExit(run, 3);
    expect(run.lines.find((l) => l.level === "error")?.msg).toBe(
      `${standby.addr} is a standby; point VAULT_ADDR at the active server (the vault-active service)`,
    );
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
    const refusedBy403 =
      "VAULT_TOKEN was refused by the target vault (HTTP 403 on sys/capabilities-self): it is not valid there, or lacks the default policy; use a root token of the target vault";
    await target.call(target.rootToken, "PUT", "sys/policies/acl/restore-read-only", {
      policy: 'path "sys/storage/raft/snapshot-force" { capabilities = ["read"] }',
    });
    const readOnly = await createToken(target, { policies: ["restore-read-only"], ttl: "10m" });
    const noDefault = await createToken(target, { policies: ["restore-read-only"], no_default_policy: true, ttl: "10m" });
    try {
      expect(await tokenRefusal(readOnly.token)).toBe(
        "VAULT_TOKEN may not restore (capabilities on sys/storage/raft/snapshot-force: read); use a root token of the target vault",
      );
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
    expect(done).toMatchObject({
      msg: "dry run: the snapshot is intact and the target would accept it; nothing was changed",
      restored: false,
      object: storedObject,
    });
    expect(run.lines.some((l) => l.msg === "snapshot downloaded and its SHA-256 verified")).toBe(true);
    // The new cluster's own root token still works: a restore would have replaced its token store.
    expect(await vaultState(target, target.rootToken)).toEqual(before);
    expect(before).toMatchObject({ tokenValid: true, sealed: false, mounts: ["cubbyhole/", "identity/", "sys/"], auth: ["token/"] });
  });

  const onVault =
    DISTRIBUTION === "vault" ? " (HashiCorp Vault: once the two servers the restore removed from the cluster rejoin empty, the runbook's step)" : "";
  it(`restores the latest snapshot into a new 3-node cluster; unsealed with the source's keys it serves every secret again${onVault}`, async () => {
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
    for (const server of target.cluster.servers)
      await unsealWith(server, source.keys, source.threshold, 20_000).catch(async (e: Error) => {
        throw new Error(`${e.message}\n${await sealStates(target.cluster)}\n${server.output.slice(-3000)}`);
      });
    if (DISTRIBUTION === "vault") await rejoinRemovedServers(target, source.rootToken, source.keys, source.threshold);
    await waitFor(
      "one active and two unsealed standbys",
      async () => {
        const states = await Promise.all(
          target.cluster.servers.map((s) =>
            vaultRequest(s.addr, s.ca, "GET", "/v1/sys/health").then(
              (r) => r.status,
              () => 0,
            ),
          ),
        );
        return states.filter((s) => s === 200).length === 1 && states.filter((s) => s === 429).length === 2 ? true : undefined;
      },
      60_000,
      200,
    ).catch(async (e: Error) => {
      throw new Error(
        `${e.message}\n${await sealStates(target.cluster)}\n${target.cluster.servers.map((s) => `${s.name}:\n${s.output.slice(-2500)}`).join("\n")}`,
      );
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
    const expireTime = async (token: string) =>
      ((await source.call(token, "GET", "auth/token/lookup-self")).body.data as { expire_time?: string } | undefined)?.expire_time;
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
    expect(run.lines.at(-1)).toMatchObject({
      msg: "restored; the target is unsealed (its seal also unwraps the snapshot's keyring)",
      restored: true,
      sealedAfter: false,
      object,
    });

    expect(await lookup(revokedLater.token)).toBe(200);
    expect(await expireTime(revokedLater.token)).toBe(revokedLaterExpires); // with its original expiry time
    expect(await lookup(madeLater.token)).toBe(403);
    // The expired token's lease came back with the snapshot and is revoked again.
    await waitFor(
      "the expired lease revoked",
      async () => {
        const found = await Promise.all(
          expiringLeases.map(async (lease_id) => (await source.call(source.rootToken, "PUT", "sys/leases/lookup", { lease_id })).status),
        );
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
