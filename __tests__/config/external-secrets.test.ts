// The External Secrets Operator objects rendered from a tenant file: each
// property the controller acts on, asserted directly.
import { renderExternalSecrets, secretStoreName } from "../../config/external-secrets";
import type { TenantConfig } from "../../config/tenant-schema";
import { exampleEnv, exampleTenants } from "../helpers";

const env = exampleEnv({ tenancy: { vaultAddress: "https://vault.internal.acme.dev:8200" } });
const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const payments = () => exampleTenants(env).find((t) => t.name === "payments") as TenantConfig;
const withSecrets = (secrets: TenantConfig["secrets"], over: Partial<TenantConfig> = {}): TenantConfig => ({ ...payments(), ...over, secrets });
const secret = (over: Partial<TenantConfig["secrets"][number]> = {}): TenantConfig["secrets"][number] => ({
  name: "db",
  namespace: "payments",
  path: "tenants/payments/kv/db",
  keys: { PASSWORD: "password" },
  refreshInterval: 300,
  ...over,
});
type Store = { spec: { provider: { vault: Record<string, any> } } }; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("the External Secrets Operator objects of a tenant", () => {
  it("renders nothing for a tenant without secrets", () => {
    expect(renderExternalSecrets(withSecrets([]), env, CA)).toEqual([]);
  });

  it("renders a store that logs in with the tenant's role, its audience and its cluster's backend, and reads only its KV mount", () => {
    const [store] = renderExternalSecrets(payments(), env, CA);
    expect(store).toMatchObject({
      apiVersion: "external-secrets.io/v1",
      kind: "SecretStore",
      metadata: { name: "vault-payments-payments-api", namespace: "payments", labels: { "vault-gke/tenant": "payments", "vault-gke/environment": "example" } },
    });
    const vault = (store as unknown as Store).spec.provider.vault;
    expect(vault.server).toBe("https://vault.internal.acme.dev:8200");
    expect(vault.path).toBe("tenants/payments/kv");
    expect(vault.version).toBe("v2");
    expect(Buffer.from(vault.caBundle, "base64").toString()).toBe(CA);
    expect(vault.auth).toEqual({
      kubernetes: { mountPath: "kubernetes-apps-prod", role: "payments", serviceAccountRef: { name: "payments-api", audiences: ["vault"] } },
    });
  });

  it("uses the environment's default address, the tenant's own audience, and no caBundle when the system's CAs are trusted", () => {
    const plain = exampleEnv();
    const [store] = renderExternalSecrets(withSecrets([secret()], { audience: "https://vault.acme.dev" }), plain) as unknown as Store[];
    expect(store.spec.provider.vault.server).toBe(`https://${plain.vault.hostname}:8200`);
    expect(store.spec.provider.vault).not.toHaveProperty("caBundle");
    expect(store.spec.provider.vault.auth.kubernetes.serviceAccountRef.audiences).toEqual(["https://vault.acme.dev"]);
  });

  it("renders one ExternalSecret per secret: its refresh, its target and each key from the KV field", () => {
    const objects = renderExternalSecrets(payments(), env, CA);
    const es = objects.find((o) => o.kind === "ExternalSecret");
    expect(es).toEqual({
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: expect.objectContaining({ name: "payments-db", namespace: "payments" }),
      spec: {
        refreshInterval: "5m",
        secretStoreRef: { kind: "SecretStore", name: "vault-payments-payments-api" },
        target: { name: "payments-db", creationPolicy: "Owner", deletionPolicy: "Retain" },
        data: [
          { secretKey: "DB_USER", remoteRef: { key: "db", property: "username" } },
          { secretKey: "DB_PASSWORD", remoteRef: { key: "db", property: "password" } },
        ],
      },
    });
  });

  it("renders Go durations ESO parses", () => {
    const objects = renderExternalSecrets(
      withSecrets([secret({ name: "a", refreshInterval: 60 }), secret({ name: "b", refreshInterval: 90 }), secret({ name: "c", refreshInterval: 3600 })]),
      env,
    );
    expect(objects.filter((o) => o.kind === "ExternalSecret").map((o) => o.spec.refreshInterval)).toEqual(["1m", "90s", "1h"]);
  });

  it("keeps a nested KV path inside the mount", () => {
    const [, es] = renderExternalSecrets(withSecrets([secret({ path: "tenants/payments/kv/app/prod/db" })]), env);
    expect((es.spec.data as { remoteRef: { key: string } }[])[0].remoteRef.key).toBe("app/prod/db");
  });

  it("renders one store per namespace and service account, shared by the secrets that use it, stores first", () => {
    const tenant = withSecrets(
      [
        secret({ name: "a" }),
        secret({ name: "b" }),
        secret({ name: "c", serviceAccount: "payments-worker" }),
        secret({ name: "d", namespace: "payments-batch" }),
      ],
      { namespaces: ["payments", "payments-batch"] },
    );
    const objects = renderExternalSecrets(tenant, env);
    expect(objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      "SecretStore payments/vault-payments-payments-api",
      "SecretStore payments/vault-payments-payments-worker",
      "SecretStore payments-batch/vault-payments-payments-api",
      "ExternalSecret payments/a",
      "ExternalSecret payments/b",
      "ExternalSecret payments/c",
      "ExternalSecret payments-batch/d",
    ]);
    expect(objects.find((o) => o.metadata.name === "c")?.spec.secretStoreRef).toEqual({
      kind: "SecretStore",
      name: secretStoreName("payments", "payments-worker"),
    });
  });

  it("defaults the service account to the first named one, past a wildcard", () => {
    const tenant = withSecrets([secret()], { serviceAccounts: ["*", "app"], allowWildcards: true });
    const [store] = renderExternalSecrets(tenant, env) as unknown as Store[];
    expect(store.spec.provider.vault.auth.kubernetes.serviceAccountRef.name).toBe("app");
  });
});
