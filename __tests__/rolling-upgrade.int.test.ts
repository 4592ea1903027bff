// Issue 18: a rolling upgrade under a client loop, measured. Three OpenBao
// servers with the shipped configuration, auto-unseal (transit standing in for
// Cloud KMS) and a real sidecar beside each, start on the release before the
// pinned one (.tools/bin/bao-previous, npm run tools) and are upgraded to the
// pinned one (.tools/bin/bao) by the rolling upgrade's own driver
// (commands/rolling-upgrade-plan.ts), its Vault calls made with an admin-policy
// token through the stand-in for vault-active. Each pod restart is what a pod
// deletion does: the preStop delay, then SIGTERM to the server and the sidecar
// together, then both start again (the server on the new binary, with the same
// command line and environment, under the Vault container's own command, as the
// StatefulSet's pod template gives it).
// Meanwhile a client with the recommended retries writes and reads a KV v2
// secret through the same stand-in, and must see no failed request.
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { generateRoot, VaultClient } from "@vault-gke/agent/vault";
import { describePlan, runRollingUpgrade, vaultAccess, type AutopilotState } from "../commands/rolling-upgrade-plan";
import { raftAutopilotSettings } from "../stacks/shared-stack";
import { TLS_RELOAD_CHECK_SEC } from "../constructs/vault-stateful-set";
import { createWorld, type World } from "../agent/__tests__/support/fixture";
import { waitForConverged } from "../agent/__tests__/support/converged";
import { Sidecar, stopAllSidecars } from "../agent/__tests__/support/sidecar";
import { startActiveProxy, type ActiveProxy } from "./support/active-proxy";
import { CLIENT_RETRY, startClientLoop, type ClientLoop, type ClientLoopFigures } from "./support/client-loop";
import { BAO, projectRoot, type ServerLauncher } from "./support/bao";
import { killProcessGroup } from "./support/process-group";
import { podCommand } from "./support/raft-cluster";
import { vaultRequest, waitFor } from "./support/vault-http";
import { exampleEnv } from "./helpers";

const PREVIOUS = join(projectRoot(), ".tools", "bin", "bao-previous");
/** The longest one wait of the driver may take; the test's budget follows from it. */
const WAIT_MS = 120_000;
/** Setup, then per server a restart (stop, start, unseal) and a stable wait, each at most WAIT_MS, and the step-down. */
jest.setTimeout(240_000 + 3 * 3 * WAIT_MS);

const version = (binary: string) => /v(\d+\.\d+\.\d+)/.exec(spawnSync(binary, ["version"], { encoding: "utf8" }).stdout)?.[1] ?? "";
/** The pod's preStop delay before the kubelet's SIGTERM (vault.preStopDelaySec). */
const PRE_STOP_MS = exampleEnv().vault.preStopDelaySec * 1000;

/**
 * A server process started from a pod's command line and environment with a chosen binary, under
 * the Vault container's own command (the shell that passes SIGTERM on and reloads the certificate),
 * as the pod runs it.
 */
class ServerProcess {
  private child?: ChildProcess;
  output = "";
  /** The container's exit status after each stop (the server's own, passed on by the shell). */
  readonly exits: (number | null)[] = [];

  constructor(
    readonly addr: string,
    readonly ca: Buffer,
    private readonly cwd: string,
    private readonly args: readonly string[],
    private readonly env: Record<string, string>,
    private readonly launcher: ServerLauncher,
  ) {}

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(binary: string): Promise<void> {
    this.output = "";
    const [command, args] = this.launcher(binary, this.args);
    // Its own process group, so a SIGKILL in afterAll reaches the server under the shell too.
    const child = spawn(command, args, { cwd: this.cwd, env: this.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    this.child = child;
    child.stdout?.on("data", (c: Buffer) => (this.output += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (this.output += c.toString()));
    await waitFor(`${this.addr} to listen`, async () => {
      if (!this.alive) throw new Error(`exited: ${this.output.slice(-2000)}`);
      return (await vaultRequest(this.addr, this.ca, "GET", "/v1/sys/health", { timeoutMs: 1000 })).status > 0 ? true : undefined;
    });
  }

  /** SIGTERM to the container's command, as the kubelet sends; the whole group is killed after 10 s (or at once with SIGKILL). */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    const killGroup = () => killProcessGroup(child.pid);
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    if (signal === "SIGKILL") killGroup();
    else child.kill(signal);
    const timer = setTimeout(killGroup, 10_000);
    this.exits.push(await exited);
    clearTimeout(timer);
    killGroup();
  }
}

/** The command line and environment a running process was started with (Linux /proc). */
function launchOf(pid: number): { args: string[]; env: Record<string, string> } {
  const split = (file: string) => readFileSync(`/proc/${pid}/${file}`, "utf8").split("\0").filter(Boolean);
  const env = Object.fromEntries(split("environ").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
  return { args: split("cmdline").slice(1), env };
}

const healthOf = async (s: ServerProcess) => (await vaultRequest(s.addr, s.ca, "GET", "/v1/sys/health", { timeoutMs: 1000 })).body;
const statusOf = async (s: ServerProcess) => (await vaultRequest(s.addr, s.ca, "GET", "/v1/sys/health", { timeoutMs: 1000 })).status;

let world: World;
let servers: ServerProcess[] = [];
const sidecars: Sidecar[] = [];
let proxy: ActiveProxy | undefined;
let loop: ClientLoop | undefined;
let root: string;
let admin: string;
const names = () => world.cluster.nodes.map((n) => n.name);

beforeAll(async () => {
  if (!existsSync(PREVIOUS)) throw new Error(`${PREVIOUS} is missing: run \`npm run tools\` first`);
  world = await createWorld({ replicas: 3, seal: "auto" });
  // Without it OpenBao's standbys answer reads from their own copy, and a client's kept-alive connection stays
  // with the server that stepped down: its reads lagged its own writes (52 in one run of this test).
  expect(world.cluster.configs[0].hcl).toMatch(/^disable_standby_reads = true$/m);
  // The world's servers run the pinned binary and hold nothing yet: start them again on the previous release.
  servers = world.cluster.servers.map((s, i) => {
    const { args, env } = launchOf(s.pid as number);
    return new ServerProcess(world.cluster.nodes[i].addr, world.cluster.ca, s.dir, args, env, podCommand(TLS_RELOAD_CHECK_SEC)(world.cluster.pki));
  });
  await Promise.all(world.cluster.servers.map((s) => s.stop()));
  await Promise.all(servers.map((s) => s.start(PREVIOUS)));
  for (const i of [0, 1, 2]) sidecars[i] = new Sidecar(world.sidecarEnv(i));
  await waitForConverged(world, 180_000);

  const first = world.cluster.servers[0];
  const client = new VaultClient({ address: first.addr, ca: first.ca });
  const init = JSON.parse(String(world.store.latest(world.ids.initResponse))) as { response: { recovery_keys_base64: string[] } };
  const record = JSON.parse(String(world.store.latest(world.ids.rootToken))) as { generateRootToken: string };
  root = await generateRoot(client, init.response.recovery_keys_base64, exampleEnv().vault.keyThreshold, record.generateRootToken);
  client.close();
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await vaultRequest(first.addr, first.ca, method, `/v1/${path}`, { token: root, body });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  // What the shared stack applies, and an admin's token (the policy the command's guide asks for).
  const s = raftAutopilotSettings(3);
  await call("POST", "sys/storage/raft/autopilot/configuration", {
    cleanup_dead_servers: s.cleanupDeadServers,
    last_contact_threshold: s.lastContactThreshold,
    max_trailing_logs: s.maxTrailingLogs,
    server_stabilization_time: s.serverStabilizationTime,
    min_quorum: s.minQuorum,
  });
  admin = String(((await call("POST", "auth/token/create", { policies: ["admin"], ttl: "1h" })).auth as { client_token: string }).client_token);
  await call("POST", "sys/mounts/rolling", { type: "kv", options: { version: "2" } });
  // A new KV v2 mount answers 400 ("upgrading") for a moment: the loop starts once it takes a write.
  await waitFor("the KV v2 mount to take writes", async () =>
    (await vaultRequest(first.addr, first.ca, "POST", "/v1/rolling/data/loop", { token: root, body: { data: { value: "v0" } } })).status === 200
      ? true
      : undefined,
  );
  proxy = await startActiveProxy(servers);
}, 300_000);

afterAll(async () => {
  await loop?.stop();
  await proxy?.stop();
  await stopAllSidecars();
  await Promise.all(servers.map((s) => s.stop("SIGKILL")));
  await world?.teardown();
});

/** A pod deletion and its replacement: preStop, SIGTERM to both containers, both start again; resolves once the server is unsealed. */
async function restartPod(pod: string, binary: string): Promise<void> {
  const i = names().indexOf(pod);
  await Promise.all([sidecars[i].stop("SIGTERM"), new Promise((r) => setTimeout(r, PRE_STOP_MS)).then(() => servers[i].stop("SIGTERM"))]);
  await servers[i].start(binary);
  sidecars[i] = new Sidecar(world.sidecarEnv(i));
  await waitFor(`${pod} to be unsealed`, async () => ((await healthOf(servers[i])).sealed === false ? true : undefined), WAIT_MS, 100);
}

it("upgrades every server to the pinned release, active last, with no failed client request", async () => {
  const from = version(PREVIOUS);
  const to = version(BAO);
  expect(from).not.toBe(to);
  const vault = vaultAccess(proxy!.addr, admin, world.cluster.ca);
  const options = { pods: names(), targetVersion: to };
  // Freshly joined servers are non-voters until autopilot promotes them: the upgrade starts from a whole cluster.
  const start = await waitFor(
    "three healthy voters on the previous release",
    async () => {
      const s = await vault.readState();
      return s.healthy && s.failureTolerance >= 1 && s.servers.length === 3 && s.servers.every((x) => x.version === from) ? s : undefined;
    },
    WAIT_MS,
    250,
  );
  const plan = describePlan(start, options);
  expect(plan).toHaveLength(4);
  expect(plan.slice(0, 2).every((l) => l.startsWith("restart ") && !l.startsWith(`restart ${start.leader}`))).toBe(true);
  expect(plan[2]).toMatch(new RegExp(`^step down ${start.leader} \\(active\\)`));

  // The command's dry run against this cluster (the example environment names the same pods): it prints the same plan.
  const dry = await promisify(execFile)(
    process.execPath,
    [join(projectRoot(), "node_modules", "tsx", "dist", "cli.mjs"), "commands/rolling-upgrade.ts", "example", "--dry-run", "--target-version", to],
    {
      cwd: projectRoot(),
      env: { PATH: process.env.PATH ?? "", VAULT_ADDR: proxy!.addr, VAULT_TOKEN: admin, VAULT_CACERT: world.cluster.pki.caCertFile },
    },
  );
  expect(dry.stdout).toContain(`failure tolerance 1; after each restart the server must stay a healthy voter 10 s`);
  expect(dry.stdout).toContain(plan.map((line, i) => `  ${i + 1}. ${line}`).join("\n"));

  loop = startClientLoop({ addr: proxy!.addr, ca: world.cluster.ca, token: root, mount: "rolling", path: "loop" });
  await waitFor("the client loop to be under way", async () => (loop!.figures().requests >= 20 ? true : undefined), 30_000);

  const log: string[] = [];
  const began = Date.now();
  const order = await runRollingUpgrade(
    {
      readState: () => vault.readState(),
      stepDown: () => vault.stepDown(),
      restart: (pod) => restartPod(pod, BAO),
      log: (line) => log.push(`${((Date.now() - began) / 1000).toFixed(1)}s ${line}`),
    },
    { ...options, stableMs: await vault.stabilizationMs(), waitMs: WAIT_MS },
  );
  const upgradeMs = Date.now() - began;
  // A little traffic after the last step, so a stall at the very end would show.
  const after = loop.figures().requests;
  await waitFor("requests after the upgrade", async () => (loop!.figures().requests >= after + 10 ? true : undefined), 30_000);
  const figures: ClientLoopFigures = await loop.stop();
  loop = undefined;
  const end: AutopilotState = await vault.readState();
  vault.close();

  process.stdout.write(
    `rolling upgrade ${from} -> ${to} in ${(upgradeMs / 1000).toFixed(1)} s (order ${order.join(", ")}; proxy switches ${proxy!.switches})\n` +
      `${log.join("\n")}\n` +
      `client (retries ${CLIENT_RETRY.maxRetries}, ${CLIENT_RETRY.minRetryWaitMs}-${CLIENT_RETRY.maxRetryWaitMs} ms, timeout ${CLIENT_RETRY.timeoutMs} ms): ` +
      `requests ${figures.requests}, failed ${figures.failed}, retried ${figures.retried} (${figures.retries} retries), ` +
      `longest stall ${figures.longestStallMs} ms, longest request ${figures.longestRequestMs} ms, duration ${(figures.durationMs / 1000).toFixed(1)} s\n` +
      figures.failures.join("\n"),
  );

  expect(order).toHaveLength(3);
  expect(order[2]).toBe(start.leader);
  expect(figures.failures).toEqual([]);
  expect(figures.failed).toBe(0);
  expect(figures.longestStallMs).toBeLessThan(3000);
  expect(end.healthy).toBe(true);
  expect(end.servers.map((s) => [s.id, s.healthy, s.status === "leader" || s.status === "voter", s.version])).toEqual(names().map((n) => [n, true, true, to]));
  // Each server stopped once, cleanly: the container's shell passed SIGTERM on and exited with the server's status.
  expect(servers.map((s) => s.exits)).toEqual([[0], [0], [0]]);
  const states = await Promise.all(servers.map(statusOf));
  expect(states.sort()).toEqual([200, 429, 429]);
});
