// Snapshot and restore commands against real OpenBao (one Raft node each for
// the source and the target), fake-gcs-server and the TokenReview stand-in:
// wall time and peak RSS of the built commands for a vault holding 10,000
// secrets, and peak RSS when the snapshot is several times larger than the
// command's heap limit (it streams through a spool file, never whole in memory).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopAllBao } from "../../__tests__/support/bao";
import { startFakeGcs, stopAllFakeGcs, type FakeGcs } from "../../__tests__/support/fake-gcs";
import { startTokenReviewStandIn, type TokenReviewStandIn } from "../../__tests__/support/token-review-stand-in";
import { waitFor } from "../../__tests__/support/vault-http";
import {
  RESTORE_BUNDLE,
  runCommand,
  SNAPSHOT_BUNDLE,
  startShamirVault,
  unsealWith,
  type CommandRun,
  type ShamirVault,
} from "../../agent/__tests__/support/snapshot-harness";
import { SnapshotVault } from "@vault-gke/agent/vault";
import { fmt, median } from "./measure";

const RUNS = 3;
const SECRETS = 10_000;
const LARGE_VALUES = 150;
/** Random bytes per large value (base64 in the KV entry, under Raft's 1 MiB entry limit; gzip cannot shrink it much). */
const LARGE_VALUE_BYTES = 640 * 1024;
const HEAP_LIMIT_MB = 32;
const BUCKET = "bench-example-vault-snapshots";

interface Measured {
  readonly wallMs: number;
  readonly peakRssMb: number;
  readonly run: CommandRun;
}

interface World {
  readonly dir: string;
  readonly gcs: FakeGcs;
  readonly k8s: TokenReviewStandIn;
  readonly source: ShamirVault;
  readonly target: ShamirVault;
  /** The token that currently opens the target (the source's root token once a snapshot was restored into it). */
  targetToken: string;
}

/** Runs a built command with the RSS reporter preloaded; fails unless it exits 0. */
async function measured(bundle: string, args: string[], env: Record<string, string>, nodeArgs: string[] = []): Promise<Measured> {
  const rssDir = mkdtempSync(join(tmpdir(), "vault-gke-rss-"));
  const rssFile = join(rssDir, "rss");
  const reporter = join(__dirname, "rss-reporter.js");
  try {
    const start = process.hrtime.bigint();
    const run = await runCommand(
      bundle,
      args,
      { ...env, NODE_OPTIONS: `--require ${reporter}`, VAULT_GKE_RSS_FILE: rssFile },
      { nodeArgs, timeoutMs: 600_000 },
    );
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (run.code !== 0) throw new Error(`${bundle} exited ${run.code}:\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`);
    return { wallMs, peakRssMb: Number(readFileSync(rssFile, "utf8").trim()) / 1024, run };
  } finally {
    rmSync(rssDir, { recursive: true, force: true });
  }
}

/** Writes `count` KV entries with bounded concurrency over one keep-alive connection pool. */
async function fill(vault: ShamirVault, token: string, count: number, value: (i: number) => Record<string, string>, concurrency: number): Promise<void> {
  const server = await vault.active();
  const client = new SnapshotVault({ address: server.addr, ca: server.ca, idleTimeoutMs: 120_000 });
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < count; i = next++) {
          await client.expect("write", "POST", `tenants/t${i % 10}/kv/data/s${i}`, [200, 204], { token, body: { data: value(i) } });
        }
      }),
    );
  } finally {
    client.close();
  }
}

async function setUp(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), "vault-gke-bench-snapshot-"));
  mkdirSync(join(dir, "spool"));
  const gcs = await startFakeGcs();
  await gcs.createBucket(BUCKET);
  const k8s = await startTokenReviewStandIn();
  const source = await startShamirVault(join(dir, "source"), 1, 1, 1);
  const target = await startShamirVault(join(dir, "target"), 1, 1, 1);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await source.call(source.rootToken, method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  for (let t = 0; t < 10; t++) await call("POST", `sys/mounts/tenants/t${t}/kv`, { type: "kv", options: { version: "2" } });
  await call("PUT", "sys/policies/acl/snapshot", { policy: readFileSync(join(__dirname, "..", "..", "policies", "snapshot.hcl"), "utf8") });
  await call("POST", "sys/auth/in-cluster", { type: "kubernetes" });
  await call("POST", "auth/in-cluster/config", {
    kubernetes_host: k8s.url,
    kubernetes_ca_cert: k8s.caPem,
    token_reviewer_jwt: k8s.reviewerJwt,
    issuer: k8s.issuer,
    disable_local_ca_jwt: true,
  });
  await call("POST", "auth/in-cluster/role/snapshot", {
    bound_service_account_names: ["vault-snapshot"],
    bound_service_account_namespaces: ["vault"],
    audience: "vault",
    token_policies: ["snapshot"],
    token_ttl: "15m",
  });
  return { dir, gcs, k8s, source, target, targetToken: target.rootToken };
}

async function snapshot(world: World, nodeArgs: string[] = []): Promise<Measured & { bytes: number }> {
  // Object names have a one-second resolution: start each run in a new second.
  const second = Math.floor(Date.now() / 1000);
  await waitFor("the next second", async () => (Math.floor(Date.now() / 1000) > second ? true : undefined), 2000, 10);
  const tokenFile = join(world.dir, "token");
  writeFileSync(tokenFile, world.k8s.issue({ namespace: "vault", serviceAccount: "vault-snapshot", audiences: ["vault"], ttlSec: 600 }));
  const env = {
    VAULT_ADDR: (await world.source.active()).addr,
    VAULT_CACERT: world.source.cluster.pki.caCertFile,
    KUBERNETES_TOKEN_FILE: tokenFile,
    SNAPSHOT_BUCKET: BUCKET,
    ENVIRONMENT: "example",
    SPOOL_DIR: join(world.dir, "spool"),
    SNAPSHOT_MAX_AGE_SEC: "7200",
    STORAGE_EMULATOR_HOST: world.gcs.url,
  };
  const m = await measured(SNAPSHOT_BUNDLE, [], env, nodeArgs);
  const stored = m.run.lines.find((l) => l.msg === "snapshot stored");
  return { ...m, bytes: Number(stored?.bytes) };
}

/** Restores the latest snapshot into the target, then unseals it with the source's key (both clusters have one share). */
async function restore(world: World, nodeArgs: string[] = []): Promise<Measured> {
  const env = {
    VAULT_ADDR: (await world.target.active()).addr,
    VAULT_CACERT: world.target.cluster.pki.caCertFile,
    VAULT_TOKEN: world.targetToken,
    SPOOL_DIR: join(world.dir, "spool"),
    STORAGE_EMULATOR_HOST: world.gcs.url,
  };
  const m = await measured(RESTORE_BUNDLE, ["--bucket", BUCKET, "--environment", "example", "--latest", "--force"], env, nodeArgs);
  for (const server of world.target.cluster.servers) await unsealWith(server, world.source.keys, 1);
  await world.target.active();
  world.targetToken = world.source.rootToken;
  return m;
}

export async function snapshotBench(): Promise<string> {
  const world = await setUp();
  try {
    await fill(world.source, world.source.rootToken, SECRETS, (i) => ({ value: randomBytes(24).toString("hex"), index: String(i) }), 16);
    const snaps: Awaited<ReturnType<typeof snapshot>>[] = [];
    for (let i = 0; i < RUNS; i++) snaps.push(await snapshot(world));
    const restores: Measured[] = [];
    for (let i = 0; i < RUNS; i++) restores.push(await restore(world));

    await fill(world.source, world.source.rootToken, LARGE_VALUES, () => ({ blob: randomBytes(LARGE_VALUE_BYTES).toString("base64") }), 4);
    const heap = [`--max-old-space-size=${HEAP_LIMIT_MB}`];
    const bigSnap = await snapshot(world, heap);
    const bigRestore = await restore(world, heap);

    const row = (what: string, runs: Measured[], bytes: number, heapLimit: string) =>
      `| ${what} | ${(bytes / 2 ** 20).toFixed(1)} | ${heapLimit} | ${fmt(median(runs.map((r) => r.wallMs)))} | ${fmt(Math.max(...runs.map((r) => r.wallMs)))} | ${fmt(Math.max(...runs.map((r) => r.peakRssMb)))} |`;
    const smallBytes = snaps[0].bytes;
    // From the restore's own log: snapshot-force sent until the server has reloaded the keyring (sealed itself, or serves the snapshot).
    const settleMs = (m: Measured) => {
      const at = (msg: string) => Date.parse(String(m.run.lines.find((l) => String(l.msg).startsWith(msg))?.time));
      return at("restored") - at("restoring (snapshot-force)");
    };
    return [
      "## Snapshot and restore commands",
      "",
      "The built commands (agent/dist/snapshot.js and restore.js) as processes, against one OpenBao 2.7.2 Raft node each for the source",
      "and the target (shipped configuration, TLS), fake-gcs-server 1.56.1 on loopback and the TokenReview stand-in for the snapshot job's login.",
      `Snapshot: login, Raft snapshot streamed to a spool file with SHA-256/CRC32C/MD5, create-only upload, checks, token revoked. Restore: target checks,`,
      `download and SHA-256 check, snapshot-force, until the target settles, without the unseal (repeats restore into the target unsealed with the source's key, with --force). Peak RSS: the command's own (getrusage).`,
      `Rows 1-2: ${RUNS} runs each (median and max), ${SECRETS.toLocaleString("en-US")} KV v2 secrets in 10 tenant mounts. Row 3-4: one run, ${LARGE_VALUES} more entries of`,
      `${LARGE_VALUE_BYTES / 1024} KiB of random bytes (base64), with the command's V8 heap capped at ${HEAP_LIMIT_MB} MB: the snapshot is several times the heap and streams.`,
      "",
      "| command | snapshot (MB) | heap limit | wall median (ms) | wall max (ms) | peak RSS (MB) |",
      "| --- | --- | --- | --- | --- | --- |",
      row(`snapshot, ${SECRETS.toLocaleString("en-US")} secrets`, snaps, smallBytes, "default"),
      row(`restore, ${SECRETS.toLocaleString("en-US")} secrets`, restores, smallBytes, "default"),
      row("snapshot, large values", [bigSnap], bigSnap.bytes, `${HEAP_LIMIT_MB} MB`),
      row("restore, large values", [bigRestore], bigSnap.bytes, `${HEAP_LIMIT_MB} MB`),
      "",
      `Most of a restore is the server's own work: from snapshot-force sent to the target settled (sealed on the first run, serving the snapshot on repeats), median ${fmt(median(restores.map(settleMs)))} ms`,
      `for ${SECRETS.toLocaleString("en-US")} secrets and ${fmt(settleMs(bigRestore))} ms for the large snapshot.`,
    ].join("\n");
  } finally {
    await stopAllBao();
    await stopAllFakeGcs();
    await world.k8s.stop();
    rmSync(world.dir, { recursive: true, force: true });
  }
}
