// The delivery manifest (stacks/delivery-manifest.ts): what the runners'
// scripts read with jq, so its names must be the ones the stacks and the
// sidecar use.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { APPLY_ROLE, AUTH_PATHS } from "../contract/vault-names";
import { postgresPasswordSecretPrefix, stackNames, tenantStackName } from "../config/names";
import { secretIds } from "../contract/secret-ids";
import { DELIVERY_MANIFEST_FILE, DELIVERY_MANIFEST_FORMAT, deliveryManifest, writeDeliveryManifest } from "../stacks/delivery-manifest";
import { exampleEnv, exampleTenants, synthEnvironment } from "./helpers";

const env = exampleEnv();
const tenants = exampleTenants(env);

describe("deliveryManifest", () => {
  const manifest = deliveryManifest([{ env, tenants }]);

  it("names every stack the synth writes, with its kind", () => {
    const synthesized = synthEnvironment(env, tenants).manifest;
    expect(Object.keys(manifest.stacks).sort()).toEqual([...synthesized].sort());
    const names = stackNames(env);
    expect(manifest.stacks[names.platform]).toEqual({ environment: "example", kind: "platform" });
    expect(manifest.stacks[names.vault]).toEqual({ environment: "example", kind: "vault" });
    expect(manifest.stacks[names.shared]).toEqual({ environment: "example", kind: "shared" });
    for (const t of tenants) expect(manifest.stacks[tenantStackName(env, t.name)]).toEqual({ environment: "example", kind: "tenant", tenant: t.name });
  });

  it("gives the scripts the names the stacks and the sidecar use", () => {
    expect(manifest.format).toBe(DELIVERY_MANIFEST_FORMAT);
    expect(manifest.environments.example).toEqual({
      project: env.project,
      region: env.region,
      vaultAddress: `https://${env.vault.hostname}:8200`,
      planTokenSecret: secretIds(env.name).planToken,
      postgresPasswordSecretPrefix: postgresPasswordSecretPrefix(env),
      runnerAuthPath: AUTH_PATHS.runner,
      applyRole: APPLY_ROLE,
      vaultState: { bucket: env.backend.bucket, object: `${env.backend.prefix}/example-vault/default.tfstate` },
      planServiceAccounts: env.delivery.planServiceAccounts,
      applyServiceAccounts: env.delivery.applyServiceAccounts,
      stacks: { platform: "example-platform", vault: "example-vault", shared: "example-shared", tenants: ["example-tenant-payments", "example-tenant-search"] },
    });
  });

  it("uses tenancy.vaultAddress when the environment sets one", () => {
    const custom = exampleEnv({ tenancy: { vaultAddress: "https://vault.internal.example:8200" } });
    expect(deliveryManifest([{ env: custom, tenants: [] }]).environments.example.vaultAddress).toBe("https://vault.internal.example:8200");
  });

  it("is written beside cdktf's manifest", () => {
    const dir = mkdtempSync(join(tmpdir(), "vault-gke-delivery-"));
    try {
      writeDeliveryManifest(dir, [{ env, tenants }]);
      expect(JSON.parse(readFileSync(join(dir, DELIVERY_MANIFEST_FILE), "utf8"))).toEqual(manifest);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
