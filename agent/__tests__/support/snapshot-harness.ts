// Helpers for the snapshot and restore tests: run the built commands
// (agent/dist/snapshot.js and restore.js) as real processes, keeping all
// they print for the leak scan, and start real Raft clusters of the
// distribution under test with Shamir keys, initialized and unsealed.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { DISTRIBUTION, projectRoot, type BaoServer } from "../../../__tests__/support/bao";
import { startRaftCluster, waitForActive, type RaftCluster } from "../../../__tests__/support/raft-cluster";
import type { TokenReviewStandIn } from "../../../__tests__/support/token-review-stand-in";
import { vaultRequest, waitFor, type VaultResponse } from "../../../__tests__/support/vault-http";
import { exampleEnv } from "../../../__tests__/helpers";
import { vaultServerConfigProps } from "../../../stacks/vault-server-settings";

export const SNAPSHOT_BUNDLE = resolve(projectRoot(), "agent", "dist", "snapshot.js");
export const RESTORE_BUNDLE = resolve(projectRoot(), "agent", "dist", "restore.js");

/** Everything any command printed in this test process. */
export const commandTranscript: string[] = [];

export interface CommandRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Parsed JSON log lines (stdout). */
  readonly lines: Record<string, unknown>[];
}

export interface StartedCommand {
  readonly child: ChildProcess;
  /** Everything printed so far on stdout. */
  stdout(): string;
  readonly done: Promise<CommandRun>;
}

/** Starts a bundle with node, a clean environment (PATH plus `env`) and no stdin. */
export function startCommand(
  bundle: string,
  args: readonly string[],
  env: Record<string, string>,
  options: { timeoutMs?: number; nodeArgs?: readonly string[] } = {},
): StartedCommand {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), bundle, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
  const done = new Promise<CommandRun>((resolvePromise, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      commandTranscript.push(stdout, stderr);
      resolvePromise({ code, stdout, stderr, lines: jsonLines(stdout) });
    });
  });
  return { child, stdout: () => stdout, done };
}

export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Runs a bundle to its end (see startCommand). */
export function runCommand(
  bundle: string,
  args: readonly string[],
  env: Record<string, string>,
  options: { timeoutMs?: number; nodeArgs?: readonly string[] } = {},
): Promise<CommandRun> {
  return startCommand(bundle, args, env, options).done;
}

/** Fails with what the command printed unless it exited with `code`. */
export function expectExit(run: CommandRun, code: number): void {
  if (run.code !== code) throw new Error(`expected exit ${code}, got ${run.code}\nstdout:\n${run.stdout.slice(-4000)}\nstderr:\n${run.stderr.slice(-2000)}`);
}

export interface ShamirVault {
  readonly cluster: RaftCluster;
  readonly rootToken: string;
  /** Unseal keys, base64. */
  readonly keys: readonly string[];
  readonly threshold: number;
  /** The active server now. */
  active(): Promise<BaoServer>;
  call(token: string, method: string, path: string, body?: unknown): Promise<VaultResponse>;
}

/** Submits `keys` (threshold of them) to a server until it reports unsealed (a follower only unseals once it has joined). */
export async function unsealWith(server: BaoServer, keys: readonly string[], threshold: number, timeoutMs = 120_000): Promise<void> {
  let last: unknown;
  await waitFor(
    `${server.name} unsealed`,
    async () => {
      await vaultRequest(server.addr, server.ca, "PUT", "/v1/sys/unseal", { body: { reset: true } });
      for (const key of keys.slice(0, threshold)) {
        const res = await vaultRequest(server.addr, server.ca, "PUT", "/v1/sys/unseal", { body: { key } });
        last = res;
        if (res.body.sealed === false) return true;
      }
      return undefined;
    },
    timeoutMs,
    200,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; the last answer to sys/unseal: ${JSON.stringify(last)}`);
  });
}

/**
 * Starts a Raft cluster with the shipped server configuration of the distribution the tests run (support/bao.ts
 * DISTRIBUTION; Shamir), initializes it and unseals every server.
 */
export async function startShamirVault(dir: string, replicas: 1 | 3, shares: number, threshold: number): Promise<ShamirVault> {
  const env = exampleEnv({ vault: { distribution: DISTRIBUTION, replicas, seal: "shamir" } });
  const shipped = vaultServerConfigProps(env);
  // OpenBao refuses to become active when a restored audit table differs from the audit devices its
  // configuration declares. Two environments declare the same ones (/vault/audit/audit.log and stdout),
  // but the loopback configuration gives each cluster its own audit file: here the file device writes
  // to stdout instead, so the source and the target declare identical devices as in production. (HashiCorp
  // Vault's configuration declares none.)
  const props = { ...shipped, auditDevices: (shipped.auditDevices ?? []).map((d) => ({ ...d, filePath: "stdout" })) };
  const cluster = await startRaftCluster(dir, props, env.vault.namespace, env.vault.hostname, { type: "shamir" });
  const [first] = cluster.servers;
  const init = await vaultRequest(first.addr, cluster.ca, "PUT", "/v1/sys/init", {
    body: { secret_shares: shares, secret_threshold: threshold },
    timeoutMs: 60_000,
  });
  if (init.status !== 200) throw new Error(`init failed: ${JSON.stringify(init.body)}`);
  const keys = init.body.keys_base64 as string[];
  const rootToken = String(init.body.root_token);
  await unsealWith(first, keys, threshold);
  await waitForActive([first], 60_000);
  for (const server of cluster.servers.slice(1)) await unsealWith(server, keys, threshold);
  const active = () => waitForActive(cluster.servers, 60_000);
  await active();
  return {
    cluster,
    rootToken,
    keys,
    threshold,
    active,
    call: async (token, method, path, body) => {
      const server = await active();
      return vaultRequest(server.addr, server.ca, method, `/v1/${path}`, { token, body, timeoutMs: 30_000 });
    },
  };
}

/** The parts of a vault a restore would replace, for before/after comparisons. */
export async function vaultState(vault: ShamirVault, token: string): Promise<Record<string, unknown>> {
  const server = await vault.active();
  const health = await vaultRequest(server.addr, server.ca, "GET", "/v1/sys/health");
  const keys = async (method: string, path: string) => {
    const res = await vault.call(token, method, path);
    return res.status === 200 ? Object.keys((res.body.data as Record<string, unknown>) ?? {}).sort() : res.status;
  };
  const policies = await vault.call(token, "LIST", "sys/policies/acl");
  return {
    clusterId: health.body.cluster_id,
    sealed: health.body.sealed,
    tokenValid: (await vault.call(token, "GET", "auth/token/lookup-self")).status === 200,
    mounts: await keys("GET", "sys/mounts"),
    auth: await keys("GET", "sys/auth"),
    policies: ((policies.body.data as { keys?: string[] } | undefined)?.keys ?? []).sort(),
  };
}

/** Every server's name and seal state, for failure messages. */
export async function sealStates(cluster: RaftCluster): Promise<string> {
  const states = await Promise.all(
    cluster.servers.map(
      async (s) => `${s.name}: ${JSON.stringify((await vaultRequest(s.addr, s.ca, "GET", "/v1/sys/health").catch((e: Error) => ({ body: e.message }))).body)}`,
    ),
  );
  return states.join("\n");
}

/**
 * Vault's own cluster's Kubernetes backend at auth/in-cluster, reviewing tokens through `k8s`, and the
 * snapshot job's login role with `role`'s settings. `ok` makes one request as root and throws unless it succeeds.
 */
export async function configureInClusterLogin(
  ok: (method: string, path: string, body?: unknown) => Promise<unknown>,
  k8s: TokenReviewStandIn,
  role: Record<string, unknown>,
): Promise<void> {
  await ok("POST", "sys/auth/in-cluster", { type: "kubernetes" });
  await ok("POST", "auth/in-cluster/config", {
    kubernetes_host: k8s.url,
    kubernetes_ca_cert: k8s.caPem,
    token_reviewer_jwt: k8s.reviewerJwt,
    issuer: k8s.issuer,
    disable_local_ca_jwt: true,
  });
  await ok("POST", "auth/in-cluster/role/snapshot", role);
}

/**
 * HashiCorp Vault (1.19 and later): the restored Raft configuration is the 1-server source's, so the two servers
 * the restore did not go through, once unsealed, are removed from the cluster (530, sealed, refusing to rejoin
 * with their data). The runbook's step (docs/disaster-recovery.md, "Servers removed from the cluster after a
 * restore"): with the active server serving, remove each from the Raft peers if still listed, empty its data
 * folder and restart it; unsealed with the source's keys (`keys`, `threshold`) it joins through retry_join.
 * `token`: a root token of the restored vault (the source's).
 */
export async function rejoinRemovedServers(target: ShamirVault, token: string, keys: readonly string[], threshold: number): Promise<void> {
  const active = await waitForActive(target.cluster.servers, 60_000);
  const removed = target.cluster.servers.filter((s) => s !== active);
  const status = async (s: (typeof removed)[number]) => (await vaultRequest(s.addr, s.ca, "GET", "/v1/sys/health")).status;
  await waitFor(
    "the others removed from the cluster (530)",
    async () => ((await Promise.all(removed.map(status))).every((x) => x === 530) ? true : undefined),
    60_000,
    200,
  );
  for (const server of removed) {
    const peers = await vaultRequest(active.addr, active.ca, "GET", "/v1/sys/storage/raft/configuration", { token: token });
    const listed = ((peers.body.data as { config: { servers: { node_id: string }[] } }).config.servers ?? []).some((p) => p.node_id === server.name);
    if (listed) {
      const res = await vaultRequest(active.addr, active.ca, "POST", "/v1/sys/storage/raft/remove-peer", {
        token: token,
        body: { server_id: server.name },
      });
      expect(res.status).toBeLessThan(300);
    }
    await server.stop();
    rmSync(join(server.dir, "data"), { recursive: true, force: true });
    mkdirSync(join(server.dir, "data"));
    await server.start();
    await unsealWith(server, keys, threshold, 60_000);
  }
}

/**
 * A new KV version 2 mount answers 400 "Upgrading from non-versioned to versioned data" for a moment (longer on a
 * busy machine): makes the request until the mount serves it, and returns the answer; throws on any other refusal.
 */
export async function untilKvServes(what: string, request: () => Promise<VaultResponse>, timeoutMs = 30_000): Promise<VaultResponse> {
  let answer: VaultResponse | undefined;
  await waitFor(
    `${what} (a new KV mount)`,
    async () => {
      answer = await request();
      return answer.status === 400 && JSON.stringify(answer.body).includes("Upgrading from non-versioned") ? undefined : true;
    },
    timeoutMs,
    50,
  );
  const res = answer as VaultResponse;
  if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}
