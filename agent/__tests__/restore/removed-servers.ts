// HashiCorp Vault only: the servers a restore of a 1-server snapshot removes
// from a 3-server cluster, as restore-sidecar.int.test.ts meets them (each
// sidecar's diagnosis) and as the runbook brings them back (docs/
// disaster-recovery.md, "Servers removed from the cluster after a restore").
// `sidecars` holds one sidecar per pod, in the order of the world's servers.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BaoServer } from "../../../__tests__/support/bao";
import { health, waitForActive } from "../../../__tests__/support/raft-cluster";
import type { World } from "../support/fixture";
import { Sidecar } from "../support/sidecar";

/**
 * What the runbook prescribes for a pod whose sidecar reports removed-from-cluster (HashiCorp Vault):
 * delete its data claim and the pod. Its sidecar stops, the server comes back with an empty data
 * folder (a new claim), and a new sidecar starts beside it.
 */
export async function wipeAndRestartPod(world: World, sidecars: Sidecar[], index: number, extra: Record<string, string>): Promise<void> {
  const server = world.cluster.servers[index];
  await sidecars[index].stop();
  await server.stop();
  rmSync(join(server.dir, "data"), { recursive: true, force: true });
  mkdirSync(join(server.dir, "data"));
  await server.start();
  sidecars[index] = new Sidecar(world.sidecarEnv(index, extra));
}

const removedFromCluster = (l: Record<string, unknown>) => l.diagnosis === "removed-from-cluster" && l.level === "error";

/**
 * HashiCorp Vault (1.19 and later): once unsealed, the servers the restore did not go through learn
 * that the restored Raft configuration (the 1-node source's) no longer lists them: they seal
 * themselves, answer 530 and refuse to rejoin with their data. Each one's sidecar says so, naming
 * the runbook step; the server restored into goes on as the active one. Returns it and the others.
 */
export async function removedServersDiagnosed(world: World, sidecars: readonly Sidecar[]): Promise<{ active: BaoServer; removed: number[] }> {
  const active = await waitForActive(world.cluster.servers, 60_000);
  const removed = world.cluster.servers.map((s, i) => (s === active ? -1 : i)).filter((i) => i >= 0);
  for (const i of removed) {
    const line = await sidecars[i].waitForLine(removedFromCluster, "the removed-from-cluster diagnosis", 60_000);
    expect(line.msg).toContain(`${world.cluster.nodes[i].name} was removed from the Raft cluster`);
    expect(JSON.stringify(line.recovery)).toContain('docs/disaster-recovery.md, \\"Servers removed from the cluster after a restore\\"');
    expect(sidecars[i].lines.find((l) => l.msg === "vault state" && l.state === "removed")).toMatchObject({ status: 530 });
    expect((await health(world.cluster.servers[i])).status).toBe(530);
  }
  return { active, removed };
}
