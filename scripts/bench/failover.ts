// Failover on a 3-node loopback OpenBao Raft cluster running the shipped
// server configuration: SIGKILL the active server, time until a standby
// answers /v1/sys/health as active.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopAllBao } from "../../__tests__/support/bao";
import { health, startRaftCluster, waitForActive } from "../../__tests__/support/raft-cluster";
import { vaultRequest, waitFor } from "../../__tests__/support/vault-http";
import { parseEnvironment } from "../../config/load";
import { vaultServerConfigProps } from "../../stacks/vault-server-settings";
import { fmt, median } from "./measure";
import { readFileSync } from "node:fs";
import { parse } from "yaml";

const ROUNDS = 5;

/** Failover times over ROUNDS kills, for one Raft performance_multiplier. */
async function failoverTimes(root: string, performanceMultiplier: number): Promise<number[]> {
  const data = parse(readFileSync(join(root, "environments", "example.yaml"), "utf8")) as { vault: Record<string, unknown> };
  data.vault.distribution = "openbao";
  const env = parseEnvironment(data, "example.yaml");
  const dir = mkdtempSync(join(tmpdir(), "vault-gke-failover-"));
  const times: number[] = [];
  try {
    const shipped = vaultServerConfigProps(env);
    if (shipped.storage.type !== "raft") throw new Error("raft only");
    const props = { ...shipped, storage: { ...shipped.storage, performanceMultiplier } };
    const cluster = await startRaftCluster(dir, props, env.vault.namespace, env.vault.hostname, { type: "shamir" });
    const [first] = cluster.servers;
    const init = await vaultRequest(first.addr, cluster.ca, "PUT", "/v1/sys/init", { body: { secret_shares: 1, secret_threshold: 1 }, timeoutMs: 60_000 });
    const key = (init.body.keys_base64 as string[])[0];
    const token = init.body.root_token as string;
    const unseal = (s: (typeof cluster.servers)[number]) =>
      waitFor(
        `${s.name} unsealed`,
        async () => ((await vaultRequest(s.addr, cluster.ca, "PUT", "/v1/sys/unseal", { body: { key } })).body.sealed === false ? true : undefined),
        60_000,
        100,
      );
    await unseal(first);
    await waitForActive([first], 60_000);
    for (const s of cluster.servers.slice(1)) await unseal(s);
    const allVoters = () =>
      waitFor(
        "3 healthy voters",
        async () => {
          const leader = await waitForActive(cluster.servers, 60_000);
          const res = await vaultRequest(leader.addr, cluster.ca, "GET", "/v1/sys/storage/raft/autopilot/state", { token });
          const servers = Object.values(((res.body.data as { servers?: Record<string, { healthy: boolean; status: string }> }) ?? {}).servers ?? {});
          return servers.length === 3 && servers.every((s) => s.healthy && (s.status === "leader" || s.status === "voter")) ? true : undefined;
        },
        120_000,
        250,
      );
    await allVoters();
    for (let round = 0; round < ROUNDS; round++) {
      const active = await waitForActive(cluster.servers);
      const killedAt = process.hrtime.bigint();
      await active.kill();
      const survivors = cluster.servers.filter((s) => s !== active);
      const next = await waitForActive(survivors, 60_000, 10).catch(async (error) => {
        for (const s of survivors) console.error(s.name, await health(s).catch((e) => String(e)), s.output.slice(-1500));
        throw error;
      });
      times.push(Number(process.hrtime.bigint() - killedAt) / 1e6);
      if ((await health(next)).status !== 200) throw new Error("the new active server is not active");
      await active.start();
      await unseal(active);
      await allVoters();
    }
  } finally {
    await stopAllBao();
    rmSync(dir, { recursive: true, force: true });
  }
  return times;
}

export async function failoverBench(root: string): Promise<string> {
  const shipped = await failoverTimes(root, 1);
  const defaults = await failoverTimes(root, 5);
  const row = (label: string, times: number[]) =>
    `| ${label} | ${fmt(median(times))} | ${fmt(Math.min(...times))} | ${fmt(Math.max(...times))} | ${times.map((t) => fmt(t)).join(", ")} |`;
  return [
    "## Failover: SIGKILL of the active server to a standby answering as active",
    "",
    `3 OpenBao 2.7.2 servers on loopback with the shipped configuration (TLS everywhere), ${ROUNDS} rounds per row;`,
    "after each round the killed server is restarted, unsealed and back as a healthy voter before the next kill.",
    "Measured with 10 ms polling of /v1/sys/health on the survivors.",
    "",
    "| Raft performance_multiplier | median (ms) | min (ms) | max (ms) | rounds (ms) |",
    "| --- | --- | --- | --- | --- |",
    row("1 (shipped)", shipped),
    row("5 (Vault's default)", defaults),
  ].join("\n");
}
