// HashiCorp Vault has no audit stanza in its configuration, so with
// distribution "vault" the sidecar enables the file audit device through the
// API. OpenBao stands in for Vault here, with its unsafe_allow_api_audit_creation
// switch on (OpenBao refuses API-created audit devices otherwise, CVE-2025-54997).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generateRoot } from "../../src/vault/generate-root";
import { VaultClient } from "../../src/vault/client";
import { createWorld, type World } from "../support/fixture";
import { waitForConverged } from "../support/converged";
import { findLeaks, storedSecrets } from "../support/leak-scan";
import { Sidecar, stopAllSidecars, transcript } from "../support/sidecar";

jest.setTimeout(120_000);

let world: World;
beforeAll(async () => {
  world = await createWorld({ replicas: 1, seal: "shamir", distribution: "vault" });
});
afterAll(async () => {
  await stopAllSidecars();
  await world.teardown();
});

it("enables a file audit device through the API and says so", async () => {
  const sidecar = new Sidecar(world.sidecarEnv(0));
  await waitForConverged(world);
  expect(sidecar.lines.find((l) => l.msg === "audit device enabled through the API")).toMatchObject({ device: "file/", source: "api" });
  const server = world.cluster.servers[0];
  const init = JSON.parse(String(world.store.latest(world.ids.initResponse)));
  const client = new VaultClient({ address: server.addr, ca: server.ca });
  const root = await generateRoot(client, init.response.keys_base64, 3, JSON.parse(String(world.store.latest(world.ids.rootToken))).generateRootToken);
  try {
    expect(await client.listAuditDevices(root)).toEqual({
      "file/": expect.objectContaining({ type: "file" }),
      "stdout/": expect.objectContaining({ type: "file" }),
    });
  } finally {
    await client.revokeSelf(root);
    client.close();
  }
  expect(readFileSync(join(world.dir, "api-audit.log"), "utf8")).toContain('"type":"response"');
});

it("printed no key, token or init response", () => {
  expect(findLeaks(storedSecrets(world.store, world.ids), transcript.join(""))).toEqual([]);
});
