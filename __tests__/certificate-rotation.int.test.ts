// Issue 18: the TLS certificate and its CA rotated under a client loop, on a
// running 3-node OpenBao cluster with the shipped configuration, auto-unseal
// (transit standing in for Cloud KMS) and a real sidecar beside each server.
// Each server runs under the Vault container's own command
// (constructs/vault-server-command.ts, checking every second here instead of
// 10), and its TLS files form a folder updated the way the kubelet updates a
// mounted secret (support/secret-volume.ts). The steps are the operator's
// guide's "Rotating the TLS certificate": a renewed certificate from the same
// CA, then the CA in three steps (trust both, sign with the new one, drop the
// old one). Clients go through the stand-in for vault-active with the
// recommended retries; they take the new bundle after the first CA step, as
// the guide tells them to. No server restarts, and no request may fail.
import { X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { generateRoot, VaultClient } from "@vault-gke/agent/vault";
import { servedCertificate } from "../agent/src/vault/served-certificate";
import { createWorld, type World } from "../agent/__tests__/support/fixture";
import { waitForConverged } from "../agent/__tests__/support/converged";
import { Sidecar, sidecarEndpoint, stopAllSidecars } from "../agent/__tests__/support/sidecar";
import { startActiveProxy, type ActiveProxy } from "./support/active-proxy";
import { CLIENT_RETRY, startClientLoop, type ClientLoop, type ClientLoopFigures } from "./support/client-loop";
import { makeTestCa, signServerCertificate } from "./support/pki";
import { podCommand } from "./support/raft-cluster";
import { SecretVolume } from "./support/secret-volume";
import { vaultRequest, waitFor } from "./support/vault-http";
import { vaultCertificateNames } from "../constructs/vault-naming";
import { exampleEnv } from "./helpers";

/** The longest a step may take to reach every server: the watcher's interval and the sidecars' check, with room for a loaded machine. */
const STEP_MS = 60_000;
jest.setTimeout(300_000 + 4 * STEP_MS);

let world: World;
const sidecars: Sidecar[] = [];
const endpoints: string[] = [];
let proxy: ActiveProxy | undefined;
const loops: ClientLoop[] = [];
let volume: SecretVolume;
let root: string;
let names: { dnsNames: string[]; ipAddresses: string[] };
/** The CA bundle as the pods see it now. */
const mountedCa = () => readFileSync(world.cluster.pki.caCertFile);
const fingerprint = (pem: Buffer | string) => new X509Certificate(pem).fingerprint256;

beforeAll(async () => {
  world = await createWorld({ replicas: 3, seal: "auto", launcher: podCommand(1) });
  // The test PKI's ca.crt, tls.crt and tls.key (one folder, shared by the three "pods") become a secret volume.
  volume = new SecretVolume(dirname(world.cluster.pki.caCertFile), ["ca.crt", "tls.crt", "tls.key"]);
  for (const i of [0, 1, 2]) {
    sidecars[i] = new Sidecar(world.sidecarEnv(i, { CERTIFICATE_CHECK_SEC: "1" }));
    endpoints[i] = await sidecarEndpoint(sidecars[i]);
  }
  await waitForConverged(world, 180_000);
  const env = exampleEnv();
  names = vaultCertificateNames(env.vault.namespace, 3, env.vault.hostname);

  const first = world.cluster.servers[0];
  const client = new VaultClient({ address: first.addr, ca: first.ca });
  const init = JSON.parse(String(world.store.latest(world.ids.initResponse))) as { response: { recovery_keys_base64: string[] } };
  const record = JSON.parse(String(world.store.latest(world.ids.rootToken))) as { generateRootToken: string };
  root = await generateRoot(client, init.response.recovery_keys_base64, env.vault.keyThreshold, record.generateRootToken);
  client.close();
  const mounted = await vaultRequest(first.addr, first.ca, "POST", "/v1/sys/mounts/rotation", { token: root, body: { type: "kv", options: { version: "2" } } });
  expect(mounted.status).toBe(204);
  // The stand-in health-checks each server with the bundle the pods have now, as the kubelet's probes do.
  proxy = await startActiveProxy(
    world.cluster.servers.map((s) => ({
      addr: s.addr,
      get ca() {
        return mountedCa();
      },
    })),
  );
}, 300_000);

afterAll(async () => {
  await Promise.all(loops.map((l) => l.stop()));
  await proxy?.stop();
  await stopAllSidecars();
  await world?.teardown();
});

/** What each server presents now, read over a handshake that trusts the mounted bundle. */
const presented = () => Promise.all(world.cluster.servers.map(async (s) => (await servedCertificate(s.addr, mountedCa())).fingerprint256));

/** What each sidecar reports its server presents (/state). */
async function reported(): Promise<(string | undefined)[]> {
  return Promise.all(
    endpoints.map(async (e) => {
      const state = (await (await fetch(`${e}/state`)).json()) as { certificate?: { fingerprint256: string } };
      return state.certificate?.fingerprint256;
    }),
  );
}

/** Publishes new TLS files and waits until every server presents `expected` and every sidecar reports it. */
async function rollOut(files: Record<string, string | Buffer>, expected: string, what: string): Promise<number> {
  const began = Date.now();
  volume.publish(files);
  await waitFor(`every server to present ${what}`, async () => ((await presented()).every((f) => f === expected) ? true : undefined), STEP_MS, 100);
  const reached = Date.now() - began;
  await waitFor(`every sidecar to report ${what}`, async () => ((await reported()).every((f) => f === expected) ? true : undefined), STEP_MS, 100);
  return reached;
}

/**
 * Two clients with the same bundle: one keeps its connection (it made its handshake before the
 * change), one opens a new connection for every request (each handshake meets what the servers
 * present at that moment).
 */
interface Clients {
  readonly kept: ClientLoop;
  readonly fresh: ClientLoop;
}

function startLoop(ca: Buffer): Clients {
  const start = (newConnections: boolean) => {
    const loop = startClientLoop({ addr: proxy!.addr, ca, token: root, mount: "rotation", path: `loop-${loops.length}`, newConnections });
    loops.push(loop);
    return loop;
  };
  return { kept: start(false), fresh: start(true) };
}

async function stopBoth(clients: Clients): Promise<[ClientLoopFigures, ClientLoopFigures]> {
  return [await clients.kept.stop(), await clients.fresh.stop()];
}

/** Waits until both clients have made 20 more requests. */
async function underWay(clients: Clients): Promise<void> {
  for (const loop of [clients.kept, clients.fresh]) {
    const from = loop.figures().requests;
    await waitFor("the client loop to be under way", async () => (loop.figures().requests >= from + 20 ? true : undefined), 30_000);
  }
}

function print(name: string, [kept, fresh]: ClientLoopFigures[], steps: string): void {
  process.stdout.write(`${name}: ${steps}\n${describe("kept connection", kept)}${describe("new connections", fresh)}`);
}

function describe(client: string, figures: ClientLoopFigures): string {
  return (
    `${client} client (retries ${CLIENT_RETRY.maxRetries}, ${CLIENT_RETRY.minRetryWaitMs}-${CLIENT_RETRY.maxRetryWaitMs} ms, timeout ${CLIENT_RETRY.timeoutMs} ms): ` +
    `requests ${figures.requests}, failed ${figures.failed}, retried ${figures.retried} (${figures.retries} retries), ` +
    `longest stall ${figures.longestStallMs} ms, longest request ${figures.longestRequestMs} ms, duration ${(figures.durationMs / 1000).toFixed(1)} s\n` +
    figures.failures.join("\n")
  );
}

function expectNoFailure(all: ClientLoopFigures[]): void {
  for (const figures of all) {
    expect(figures.failures).toEqual([]);
    expect(figures.failed).toBe(0);
    expect(figures.longestStallMs).toBeLessThan(3000);
  }
}

const pids = () => world.cluster.servers.map((s) => s.pid);

it("loads a renewed certificate from the same CA on every server, with no restart and no failed request", async () => {
  const before = pids();
  const dir = join(world.dir, "renewed");
  mkdirSync(dir);
  const caDir = dirname(world.cluster.pki.caCertFile);
  const renewed = signServerCertificate(caDir, dir, names.dnsNames, names.ipAddresses);
  const expected = fingerprint(readFileSync(renewed.certFile));
  expect((await presented()).every((f) => f !== expected)).toBe(true);

  const loop = startLoop(mountedCa());
  await underWay(loop);
  const reachedMs = await rollOut({ "tls.crt": readFileSync(renewed.certFile), "tls.key": readFileSync(renewed.keyFile) }, expected, "the renewed certificate");
  await underWay(loop);
  const figures = await stopBoth(loop);
  print("certificate renewal", figures, `every server presented the renewed certificate ${reachedMs} ms after the secret changed`);
  expectNoFailure(figures);
  // Reloaded, not restarted: the same processes, each told once per change.
  expect(pids()).toEqual(before);
  expect(world.cluster.servers.every((s) => s.alive)).toBe(true);
  for (const s of world.cluster.servers) expect(s.output).toContain("TLS files changed; sending SIGHUP to reload the certificate");
});

it("rotates the CA in three steps with both CAs trusted in between, with no restart and no failed request", async () => {
  const before = pids();
  const oldCa = mountedCa();
  const dir = join(world.dir, "next-ca");
  mkdirSync(dir);
  const nextCa = readFileSync(makeTestCa(dir, "vault-gke test CA 2"));
  const next = signServerCertificate(dir, dir, names.dnsNames, names.ipAddresses);
  const both = Buffer.concat([oldCa, nextCa]);
  const servedNow = (await presented())[0];

  // Clients that still trust only the old CA run through step 1.
  const oldClients = startLoop(oldCa);
  await underWay(oldClients);
  // 1. Trust both: only ca.crt changes, the servers present the same certificate.
  volume.publish({ "ca.crt": both });
  await waitFor(
    "every sidecar to trust both CAs",
    async () => (sidecars.every((s) => s.lines.some((l) => l.msg === "the CA bundle changed; trusting the new one")) ? true : undefined),
    STEP_MS,
    100,
  );
  expect(await presented()).toEqual([servedNow, servedNow, servedNow]);
  // The clients take the new bundle (the guide's wait between step 1 and step 2).
  const newClients = startLoop(both);
  await underWay(newClients);
  const step1 = await stopBoth(oldClients);

  // 2. Sign with the new CA.
  const expected = fingerprint(readFileSync(next.certFile));
  const reachedMs = await rollOut({ "tls.crt": readFileSync(next.certFile), "tls.key": readFileSync(next.keyFile) }, expected, "the certificate of the new CA");
  await underWay(newClients);
  // A client that never took the new bundle is refused now: the reason for the wait between steps 1 and 2.
  const stale = await vaultRequest(proxy!.addr, oldCa, "GET", "/v1/sys/health", { timeoutMs: 5000 }).then(
    (res) => `HTTP ${res.status}`,
    (error: Error) => error.message,
  );
  expect(stale).toMatch(/certificate|self.signed|issuer/i);

  // 3. Drop the old CA.
  volume.publish({ "ca.crt": nextCa });
  await waitFor(
    "the sidecars to trust the new CA alone",
    async () => (sidecars.every((s) => s.lines.filter((l) => l.msg === "the CA bundle changed; trusting the new one").length >= 2) ? true : undefined),
    STEP_MS,
    100,
  );
  await underWay(newClients);
  const steps2and3 = await stopBoth(newClients);

  print("CA rotation, step 1 (old-CA clients)", step1, "ca.crt holds both CAs");
  print("CA rotation, steps 1-3 (new-bundle clients)", steps2and3, `every server presented the new CA's certificate ${reachedMs} ms after the secret changed`);
  expectNoFailure([...step1, ...steps2and3]);
  expect(pids()).toEqual(before);
  // Every sidecar still reaches its server (it trusts the new CA) and reports what it presents, and the CA's expiry with it.
  const states = await Promise.all(
    endpoints.map(async (e) => (await (await fetch(`${e}/state`)).json()) as { state: string; certificate?: { caExpiresAt?: string } }),
  );
  expect(states.map((s) => s.state).sort()).toEqual(["active", "standby", "standby"]);
  expect(states.every((s) => s.certificate?.caExpiresAt === new Date(new X509Certificate(nextCa).validTo).toISOString())).toBe(true);
  const metrics = await (await fetch(`${endpoints[0]}/metrics`)).text();
  expect(metrics).toMatch(/vault_gke_sidecar_certificate_expiry_timestamp_seconds\{certificate="server"\} \d+/);
});
