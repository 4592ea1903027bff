// The shipped server configuration, loaded by three real servers on loopback:
// one Raft cluster, one active node, every connection TLS verified against the
// test CA. On each distribution (jest projects integration and
// integration-vault), with the configuration that distribution ships.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { DISTRIBUTION, stopAllBao } from "../support/bao";
import { health, LOOPBACK_REPLACEMENTS, startRaftCluster, waitForActive, type RaftCluster } from "../support/raft-cluster";
import { vaultRequest, waitFor } from "../support/vault-http";
import { exampleEnv } from "../helpers";
import { vaultServerConfigProps } from "../../stacks/vault-server-settings";
import { renderVaultServerConfig } from "../../constructs/vault-server-config";

jest.setTimeout(120_000);

const env = exampleEnv({ vault: { distribution: DISTRIBUTION } });
const shipped = vaultServerConfigProps(env);
let dir: string;
let cluster: RaftCluster;
let rootToken: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-raft-"));
  cluster = await startRaftCluster(dir, shipped, env.vault.namespace, env.vault.hostname, { type: "shamir" });
});

afterAll(async () => {
  await stopAllBao();
  rmSync(dir, { recursive: true, force: true });
});

it("says which stanzas of the shipped configuration it replaced", () => {
  // Everything else is the shipped text: compare line by line, ignoring the replaced values.
  const shippedText = renderVaultServerConfig(shipped);
  const testText = cluster.configs[0].hcl;
  const normalise = (t: string) =>
    t
      .split("\n")
      .filter((l) => !/^\s*(address|cluster_address|tls_cert_file|tls_key_file|leader_ca_cert_file|path|leader_api_addr|file_path) = /.test(l))
      .join("\n")
      .replace(/seal "gcpckms" \{[^}]*\}\n\n/, "")
      .replace(/service_registration "kubernetes" \{\}\n\n/, "");
  expect(normalise(testText)).toBe(normalise(shippedText));
  expect(LOOPBACK_REPLACEMENTS.length).toBe(7);
  expect(testText).toContain('leader_tls_servername = "vault-1.vault-internal.vault.svc.cluster.local"');
  // OpenBao reads its audit devices from the configuration; Vault's are enabled through the API by the sidecar.
  if (DISTRIBUTION === "openbao") expect(testText).toContain('audit "file" "stdout"');
  else expect(testText).not.toContain("audit ");
});

it("starts three servers that refuse plaintext HTTP", async () => {
  const plain = await fetch(`http://127.0.0.1:${cluster.nodes[0].apiPort}/v1/sys/health`)
    .then((r) => r.status)
    .catch(() => 0);
  expect(plain).not.toBe(200); // a TLS listener answers plaintext with 400 or a reset, never a health document
  for (const s of cluster.servers) expect((await health(s)).initialized).toBe(false);
});

it("initializes one server, unseals all, and forms a 3-peer Raft cluster with one active node", async () => {
  const [first, ...others] = cluster.servers;
  const init = await vaultRequest(first.addr, cluster.ca, "PUT", "/v1/sys/init", { body: { secret_shares: 1, secret_threshold: 1 }, timeoutMs: 30_000 });
  if (init.status !== 200) throw new Error(`init failed (${init.status}): ${first.output.slice(-3000)}`);
  expect(init.status).toBe(200);
  const key = (init.body.keys_base64 as string[])[0];
  rootToken = init.body.root_token as string;
  expect((await vaultRequest(first.addr, cluster.ca, "PUT", "/v1/sys/unseal", { body: { key } })).body.sealed).toBe(false);
  const active = await waitForActive([first]);
  expect(active).toBe(first);

  // Followers join through retry_join (TLS to the leader, verified against the CA and the pod's name), then unseal.
  for (const s of others) {
    await waitFor(
      `${s.name} to join and unseal`,
      async () => {
        const res = await vaultRequest(s.addr, cluster.ca, "PUT", "/v1/sys/unseal", { body: { key } });
        return res.body.sealed === false ? true : undefined;
      },
      60_000,
      250,
    );
  }
  const peers = await waitFor(
    "3 Raft peers",
    async () => {
      const res = await vaultRequest(first.addr, cluster.ca, "GET", "/v1/sys/storage/raft/configuration", { token: rootToken });
      const servers = (res.body.data as { config: { servers: { node_id: string; leader: boolean }[] } })?.config.servers ?? [];
      return servers.length === 3 ? servers : undefined;
    },
    60_000,
    250,
  );
  expect(peers.map((p) => p.node_id).sort()).toEqual(["vault-0", "vault-1", "vault-2"]);
  expect(peers.filter((p) => p.leader)).toHaveLength(1);

  const states = await Promise.all(cluster.servers.map(health));
  expect(states.filter((h) => h.status === 200)).toHaveLength(1);
  expect(states.filter((h) => h.status === 429 && h.standby)).toHaveLength(2);
});

it("writes the declared audit devices (OpenBao: from the configuration; Vault: none until the sidecar enables them, agent/__tests__/sidecar/audit-api.int.test.ts)", async () => {
  const res = await vaultRequest(cluster.servers[0].addr, cluster.ca, "GET", "/v1/sys/audit", { token: rootToken });
  const devices = (res.body.data ?? res.body) as Record<string, { type: string }>;
  if (DISTRIBUTION === "vault") return expect(Object.keys(devices)).toEqual([]);
  expect(Object.keys(devices).sort()).toEqual(["file/", "stdout/"]);
  await waitFor("an audit line on disk", async () => (readFileSync(join(dir, "audit.log"), "utf8").includes('"type":"request"') ? true : undefined));
});

it("serves only TLS 1.2 or newer", async () => {
  const outcome = await new Promise<string>((resolve) => {
    const socket = connect({
      host: "127.0.0.1",
      port: cluster.nodes[0].apiPort,
      ca: cluster.ca,
      servername: "localhost",
      maxVersion: "TLSv1.1",
      minVersion: "TLSv1",
    });
    socket.on("secureConnect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.on("error", () => resolve("refused"));
  });
  expect(outcome).toBe("refused");
});
