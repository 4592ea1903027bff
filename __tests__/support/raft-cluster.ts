// A Raft cluster of real OpenBao servers on loopback, configured with the
// server configuration the vault stack ships, with only what cannot run here
// replaced (each replacement is listed in `replaced`).
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { vaultCertificateNames, vaultPodNames } from "../../constructs/vault-naming";
import { renderVaultServerConfig, type SealConfig, type VaultServerConfigProps } from "../../constructs/vault-server-config";
import { reloadingServerCommand } from "../../constructs/vault-server-command";
import { BaoServer, serverEnvVar, writeConfig, type ServerLauncher } from "./bao";
import { makeTestPki, type TestPki } from "./pki";
import { freePort } from "./ports";
import { vaultRequest, waitFor } from "./vault-http";

export interface LoopbackNode {
  readonly name: string;
  readonly apiPort: number;
  readonly clusterPort: number;
  readonly addr: string;
}

export interface LoopbackConfig {
  readonly props: VaultServerConfigProps;
  readonly hcl: string;
}

/** What the loopback configuration changes in the shipped one, and why. */
export const LOOPBACK_REPLACEMENTS = [
  "listener address and cluster_address: loopback ports instead of [::]:8200 and [::]:8201",
  "tls_cert_file, tls_key_file, leader_ca_cert_file: a test CA and certificate with the same SANs",
  "storage path: a temporary directory",
  "retry_join leader_api_addr: loopback ports (leader_tls_servername stays the shipped pod name)",
  "seal: the test's seal (Shamir, or transit against a local OpenBao) instead of gcpckms",
  "service_registration: removed, it needs a Kubernetes API",
  "audit file_path of the file device: one temporary file shared by all servers instead of /vault/audit/audit.log (OpenBao requires declarative audit devices to be identical on every server, or a standby cannot take over)",
] as const;

export function loopbackConfig(
  shipped: VaultServerConfigProps,
  node: LoopbackNode,
  nodes: readonly LoopbackNode[],
  dir: string,
  pki: TestPki,
  seal: SealConfig,
  auditFile: string,
): LoopbackConfig {
  if (shipped.storage.type !== "raft") throw new Error("loopback clusters need raft storage");
  const peers = shipped.storage.peers;
  if (peers.length !== nodes.length) throw new Error(`shipped config has ${peers.length} peers, test has ${nodes.length} nodes`);
  const props: VaultServerConfigProps = {
    ...shipped,
    listenAddress: `127.0.0.1:${node.apiPort}`,
    clusterListenAddress: `127.0.0.1:${node.clusterPort}`,
    tlsCertFile: pki.certFile,
    tlsKeyFile: pki.keyFile,
    storage: {
      ...shipped.storage,
      path: join(dir, "data"),
      caCertFile: pki.caCertFile,
      peers: peers.map((peer, i) => ({ ...peer, apiAddr: nodes[i].addr })),
    },
    seal,
    serviceRegistration: false,
    auditDevices: (shipped.auditDevices ?? []).map((d) => (d.filePath === "stdout" ? d : { ...d, filePath: auditFile })),
  };
  return { props, hcl: renderVaultServerConfig(props) };
}

/**
 * Runs a server under the Vault container's command (constructs/vault-server-command.ts), as the
 * pod does, watching the test PKI's files where the pod watches the mounted secret's: a rotation
 * test replaces those files and the command reloads the server. Checks every `intervalSec`.
 */
export function podCommand(intervalSec: number): (pki: TestPki) => ServerLauncher {
  return (pki) => (binary, args) => {
    const config = args.find((a) => a.startsWith("-config="));
    if (args[0] !== "server" || !config) throw new Error(`podCommand runs "server -config=<file>", got ${args.join(" ")}`);
    const [shell, flag, script] = reloadingServerCommand({
      binary,
      configFile: config.slice("-config=".length),
      watchedFiles: [pki.certFile, pki.keyFile, pki.caCertFile],
      intervalSec,
    });
    return [shell, [flag, script]];
  };
}

export interface RaftCluster {
  readonly nodes: LoopbackNode[];
  readonly servers: BaoServer[];
  readonly configs: LoopbackConfig[];
  readonly pki: TestPki;
  readonly ca: Buffer;
}

/** Starts one server per shipped peer; nothing is initialized yet. */
/** `extraHcl`: test-only lines appended to every server's configuration (say why where you use it). */
export async function startRaftCluster(
  dir: string,
  shipped: VaultServerConfigProps,
  namespace: string,
  hostname: string,
  seal: SealConfig,
  extraEnv: Record<string, string> = {},
  extraHcl = "",
  /** API ports chosen beforehand (for an environment that names the address); free ones otherwise. */
  apiPorts: readonly number[] = [],
  /** How each server is run (podCommand: under the container's command, as the pod runs it); the binary itself otherwise. */
  launcher?: (pki: TestPki) => ServerLauncher,
): Promise<RaftCluster> {
  if (shipped.storage.type !== "raft") throw new Error("raft only");
  const count = shipped.storage.peers.length;
  mkdirSync(dir, { recursive: true });
  const names = vaultCertificateNames(namespace, count, hostname);
  const pki = makeTestPki(dir, names.dnsNames, names.ipAddresses);
  const ca = readFileSync(pki.caCertFile);
  const nodes: LoopbackNode[] = [];
  for (const [i, name] of vaultPodNames(count).entries()) {
    const apiPort = apiPorts[i] ?? (await freePort());
    const clusterPort = await freePort();
    nodes.push({ name, apiPort, clusterPort, addr: `https://127.0.0.1:${apiPort}` });
  }
  const configs = nodes.map((node) => loopbackConfig(shipped, node, nodes, join(dir, node.name), pki, seal, join(dir, "audit.log")));
  const servers = nodes.map((node, i) => {
    const nodeDir = join(dir, node.name);
    mkdirSync(join(nodeDir, "data"), { recursive: true });
    const file = writeConfig(nodeDir, configs[i].hcl + extraHcl);
    // The pod gets these from its environment (see VaultStatefulSet); so does the test.
    const env = {
      [serverEnvVar("API_ADDR")]: node.addr,
      [serverEnvVar("CLUSTER_ADDR")]: `https://127.0.0.1:${node.clusterPort}`,
      [serverEnvVar("RAFT_NODE_ID")]: node.name,
      ...extraEnv,
    };
    return new BaoServer(node.name, nodeDir, node.addr, ca, ["server", `-config=${file}`], env, launcher?.(pki));
  });
  await Promise.all(servers.map((s) => s.start()));
  return { nodes, servers, configs, pki, ca };
}

export interface HealthView {
  readonly status: number;
  readonly initialized?: boolean;
  readonly sealed?: boolean;
  readonly standby?: boolean;
}

export async function health(server: BaoServer): Promise<HealthView> {
  const res = await vaultRequest(server.addr, server.ca, "GET", "/v1/sys/health", { timeoutMs: 1000 });
  return { status: res.status, initialized: res.body.initialized as boolean, sealed: res.body.sealed as boolean, standby: res.body.standby as boolean };
}

/** Waits until exactly one of the live servers answers as active, and returns it. */
export async function waitForActive(servers: readonly BaoServer[], timeoutMs = 30_000, intervalMs = 20): Promise<BaoServer> {
  return waitFor(
    "one active server",
    async () => {
      const live = servers.filter((s) => s.alive);
      const states = await Promise.all(live.map(async (s) => ({ s, h: await health(s).catch(() => undefined) })));
      const active = states.filter((x) => x.h?.status === 200);
      return active.length === 1 ? active[0].s : undefined;
    },
    timeoutMs,
    intervalMs,
  );
}
