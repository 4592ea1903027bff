// HashiCorp Vault has no audit stanza in its configuration, so with
// distribution "vault" the sidecar enables two audit devices through the API:
// a file and stdout, because Vault refuses every request once no enabled
// device can log it. The file runs on both distributions: on Vault itself
// (integration-vault), and on OpenBao standing in for it with its
// unsafe_allow_api_audit_creation switch on (OpenBao refuses API-created audit
// devices otherwise, CVE-2025-54997). Both serve requests while the file
// device is broken and stdout logs, and both refuse them once neither can.
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { generateRoot } from "../../src/vault/generate-root";
import { VaultClient } from "../../src/vault/client";
import { createWorld, type World } from "../support/fixture";
import { waitForConverged } from "../support/converged";
import { findLeaks, storedSecrets } from "../support/leak-scan";
import { Sidecar, stopAllSidecars, transcript } from "../support/sidecar";
import { vaultRequest, waitFor } from "../../../__tests__/support/vault-http";

jest.setTimeout(120_000);

let world: World;
/** Tokens this file made itself: none may appear in any output. */
const secrets: string[] = [];
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

it("a broken file device does not block requests while the stdout device can log; with no device left that can log, the server refuses them", async () => {
  // Two devices (file and stdout) are what keeps a full or broken audit disk from blocking every request:
  // Vault (and OpenBao, inherited) serves a request when at least one enabled device logged it.
  const server = world.cluster.servers[0];
  const auditFile = join(world.dir, "api-audit.log");
  const init = JSON.parse(String(world.store.latest(world.ids.initResponse)));
  const client = new VaultClient({ address: server.addr, ca: server.ca });
  // The sidecar would re-enable a disabled device the next time it holds root: this test plays the disk alone.
  await stopAllSidecars();
  const root = await generateRoot(client, init.response.keys_base64, 3, JSON.parse(String(world.store.latest(world.ids.rootToken))).generateRootToken);
  secrets.push(root);
  const lookupSelf = () => vaultRequest(server.addr, server.ca, "GET", "/v1/auth/token/lookup-self", { token: root });
  const reopenAuditFiles = () => process.kill(server.pid as number, "SIGHUP");
  try {
    // The file device breaks: its file can no longer be opened (here: a folder took its place; a full or read-only
    // volume does the same), and the server reopens its audit files (SIGHUP, as after a log rotation).
    rmSync(auditFile);
    mkdirSync(auditFile);
    reopenAuditFiles();
    const logged = server.output.length;
    // Every request is served while the file device fails, until the server says that device failed.
    await waitFor(
      "the file device to fail",
      async () => {
        expect((await lookupSelf()).status).toBe(200);
        return /audit/i.test(server.output.slice(logged)) && /is a directory/i.test(server.output.slice(logged)) ? true : undefined;
      },
      30_000,
      200,
    );
    for (let i = 0; i < 5; i++) expect((await lookupSelf()).status).toBe(200);
    // The stdout device logged them (the server's stdout is its output here).
    expect(server.output.slice(logged)).toContain('"path":"auth/token/lookup-self"');
    // Without the stdout device, the broken file device alone blocks every request: what one device would do on Vault.
    // (The disabling request itself is applied, and answered 500 on Vault: its response could not be logged any more.)
    const disabled = await vaultRequest(server.addr, server.ca, "DELETE", "/v1/sys/audit/stdout", { token: root });
    expect([204, 500]).toContain(disabled.status);
    const refused = await lookupSelf();
    expect(refused).toMatchObject({ status: 500, body: { errors: ["internal error"] } });
    // The disk is repaired: the file device logs again and requests are served again.
    rmSync(auditFile, { recursive: true });
    reopenAuditFiles();
    await waitFor("requests to be served again", async () => ((await lookupSelf()).status === 200 ? true : undefined), 30_000, 200);
    expect(readFileSync(auditFile, "utf8")).toContain('"type":"response"');
  } finally {
    await client.revokeSelf(root).catch(() => undefined);
    client.close();
  }
});

it("printed no key, token or init response", () => {
  expect(findLeaks([...secrets, ...storedSecrets(world.store, world.ids)], transcript.join(""))).toEqual([]);
});
