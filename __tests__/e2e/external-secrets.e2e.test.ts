// Issue 19: a tenant's secrets reach its cluster through the real External
// Secrets Operator (v0.16.2, built by `npm run tools`), as a local process with
// a kubeconfig for its service account bound to the chart's controller
// ClusterRole (not cluster-admin). The world is the end-to-end one (world.ts):
// a real kube-apiserver as the registered tenant cluster, OpenBao with the
// sidecar, and the shared and tenant stacks applied by real Terraform with the
// vendored providers. The objects are those `npm run external-secrets` writes,
// applied as written; the refusals are the written objects with one field
// changed, as a tenant could change them in its own GitOps.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { MIN_SECRET_REFRESH_SEC } from "../../config/tenant-schema";
import { ROOT } from "../helpers";
import { startEsoController, ESO_NAMESPACE, ESO_SERVICE_ACCOUNT, type EsoController } from "../support/eso";
import { vaultRequest, waitFor } from "../support/vault-http";
import { startE2eWorld, type E2eWorld } from "./world";

jest.setTimeout(20 * 60_000);

/** The shortest refresh a tenant file may ask for (1 minute). */
const REFRESH_SEC = MIN_SECRET_REFRESH_SEC;
// A reconcile takes the controller a login and a read; the margin covers that on a loaded 2-core machine.
const RECONCILE_MARGIN_MS = 30_000;

let w: E2eWorld;
let eso: EsoController | undefined;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;
let objects: Obj[];
/** A tenant of the example's registered cluster, its pods' service account `app`. */
const tenantFile = (name: string, secrets = "") => `name: ${name}\ncluster: apps-prod\nnamespaces: [${name}]\nserviceAccounts: [app]\n${secrets}`;

beforeAll(async () => {
  w = await startE2eWorld({
    seedTenants: (dir) => {
      mkdirSync(join(dir, "example"), { recursive: true });
      const secrets = `secrets:\n  - name: shop-db\n    namespace: shop\n    path: tenants/shop/kv/db\n    keys: { DB_PASSWORD: password }\n    refreshInterval: ${REFRESH_SEC / 60}m\n`;
      writeFileSync(join(dir, "example", "shop.yaml"), tenantFile("shop", secrets));
      writeFileSync(join(dir, "example", "other.yaml"), tenantFile("other"));
    },
  });
  await w.adminApply(`${w.env.name}-shared`);
  await w.adminApply(`${w.env.name}-tenant-shop`);
  await w.adminApply(`${w.env.name}-tenant-other`);
  // The sidecar renders each tenant's policy from its engines (every 30 s).
  for (const t of ["shop", "other"])
    await waitFor(`policy tenant-${t}`, async () => ((await w.read(`sys/policies/acl/tenant-${t}`)).status === 200 ? true : undefined), 120_000, 500);
  for (const t of ["shop", "other"]) {
    await w.kube.api("POST", "/api/v1/namespaces", { metadata: { name: t } });
    await w.kube.api("POST", `/api/v1/namespaces/${t}/serviceaccounts`, { metadata: { name: "app" } });
  }
  await writeKv("other", { password: "other-tenant-secret" });
  await writeKv("shop", { password: "v1" });

  // What the tenant's GitOps gets: npm run external-secrets, with the CA of Vault's certificate.
  const out = join(w.work, "external-secrets");
  const res = spawnSync(
    process.execPath,
    [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), join(w.repo, "commands", "external-secrets.ts"), "example", "--out", out],
    {
      cwd: w.repo,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", VAULT_CACERT: w.vault.cluster.pki.caCertFile },
    },
  );
  if (res.status !== 0) throw new Error(`npm run external-secrets failed (${res.status}): ${res.stderr}`);
  objects = parseAllDocuments(readFileSync(join(out, "example", "shop.yaml"), "utf8")).map((d) => d.toJS());

  eso = await startEsoController(w.kube, w.work);
}, 20 * 60_000);

afterAll(async () => {
  await eso?.stop();
  await w?.teardown();
});

/** The tenant's own pod writes its KV secret: it logs in with a token for the role's audience (TokenReview by the real API server). */
async function writeKv(tenant: string, data: Record<string, string>): Promise<void> {
  const minted = await w.kube.api("POST", `/api/v1/namespaces/${tenant}/serviceaccounts/app/token`, { spec: { audiences: ["vault"], expirationSeconds: 600 } });
  const server = w.vault.cluster.servers[0];
  const login = await vaultRequest(server.addr, server.ca, "POST", `/v1/auth/kubernetes-apps-prod/login`, {
    body: { role: tenant, jwt: (minted.body.status as { token: string }).token },
  });
  const token = (login.body.auth as { client_token?: string } | undefined)?.client_token;
  if (!token) throw new Error(`login as ${tenant}: ${login.status} ${JSON.stringify(login.body)}`);
  const put = await vaultRequest(server.addr, server.ca, "POST", `/v1/tenants/${tenant}/kv/data/db`, { token, body: { data } });
  if (put.status >= 300) throw new Error(`write tenants/${tenant}/kv/db: ${put.status} ${JSON.stringify(put.body)}`);
}

const plural = (kind: string) => (kind === "SecretStore" ? "secretstores" : "externalsecrets");
async function apply(object: Obj): Promise<void> {
  const res = await w.kube.api("POST", `/apis/external-secrets.io/v1/namespaces/${object.metadata.namespace}/${plural(object.kind)}`, object);
  if (res.status !== 201) throw new Error(`create ${object.kind} ${object.metadata.name}: ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
}

async function secretValue(namespace: string, name: string, key: string): Promise<string | undefined> {
  const res = await w.kube.api("GET", `/api/v1/namespaces/${namespace}/secrets/${name}`);
  if (res.status === 404) return undefined;
  const data = (res.body.data ?? {}) as Record<string, string>;
  return data[key] === undefined ? undefined : Buffer.from(data[key], "base64").toString();
}

type Condition = { type: string; status: string; reason?: string; message?: string };
async function readyCondition(kind: string, namespace: string, name: string): Promise<Condition | undefined> {
  const res = await w.kube.api("GET", `/apis/external-secrets.io/v1/namespaces/${namespace}/${plural(kind)}/${name}`);
  return ((res.body.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((c) => c.type === "Ready");
}
const failed = (kind: string, namespace: string, name: string) =>
  waitFor(
    `${kind} ${name} in error`,
    async () => {
      const c = await readyCondition(kind, namespace, name);
      return c?.status === "False" ? c : undefined;
    },
    120_000,
    250,
  );

/** The controller's events about an object, once one matches `pattern` (their messages hold the provider's errors). */
const eventsMatching = (namespace: string, name: string, pattern: RegExp) =>
  waitFor(
    `an event of ${name} matching ${pattern}`,
    async () => {
      const res = await w.kube.api("GET", `/api/v1/namespaces/${namespace}/events`);
      const messages = ((res.body.items ?? []) as { involvedObject: { name: string }; message: string }[])
        .filter((e) => e.involvedObject.name === name)
        .map((e) => e.message);
      return messages.some((m) => pattern.test(m)) ? messages.join("\n") : undefined;
    },
    120_000,
    250,
  );

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const written = (kind: string): Obj => {
  const o = objects.find((x) => x.kind === kind);
  if (!o) throw new Error(`npm run external-secrets wrote no ${kind}`);
  return o;
};
const store = () => written("SecretStore");
const externalSecret = () => written("ExternalSecret");

describe("a tenant's secrets through the External Secrets Operator", () => {
  it("runs the controller with the chart's ClusterRole, not cluster-admin", async () => {
    const review = async (verb: string, resource: string, group = "") =>
      (
        await w.kube.api("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
          spec: { user: `system:serviceaccount:${ESO_NAMESPACE}:${ESO_SERVICE_ACCOUNT}`, resourceAttributes: { verb, resource, group, namespace: "shop" } },
        })
      ).body.status as { allowed: boolean };
    expect((await review("create", "serviceaccounts/token")).allowed).toBe(true);
    expect((await review("create", "secrets")).allowed).toBe(true);
    expect((await review("create", "rolebindings", "rbac.authorization.k8s.io")).allowed).toBe(false);
    expect((await review("create", "pods")).allowed).toBe(false);
  });

  it("applies the objects as written: a SecretStore for the tenant's role and an ExternalSecret, and the Secret appears with the KV value", async () => {
    expect(objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      "SecretStore shop/vault-shop-app",
      "ExternalSecret shop/shop-db",
    ]);
    expect(store().spec.provider.vault).toMatchObject({ server: w.env.tenancy.vaultAddress, path: "tenants/shop/kv", version: "v2" });
    for (const o of objects) await apply(o);
    await waitFor(
      "SecretStore ready",
      async () => ((await readyCondition("SecretStore", "shop", "vault-shop-app"))?.status === "True" ? true : undefined),
      120_000,
      250,
    );
    expect(await waitFor("Secret shop-db", () => secretValue("shop", "shop-db", "DB_PASSWORD"), 120_000, 250)).toBe("v1");
    expect(await readyCondition("ExternalSecret", "shop", "shop-db")).toMatchObject({ status: "True", reason: "SecretSynced" });
  });

  it("follows a change of the KV value within the refresh interval", async () => {
    const before = await w.kube.api("GET", "/apis/external-secrets.io/v1/namespaces/shop/externalsecrets/shop-db");
    const lastRefresh = Date.parse(String((before.body.status as { refreshTime?: string } | undefined)?.refreshTime));
    await writeKv("shop", { password: "v2" });
    const changed = Date.now();
    await waitFor(
      "the changed value in Secret shop-db",
      async () => ((await secretValue("shop", "shop-db", "DB_PASSWORD")) === "v2" ? true : undefined),
      REFRESH_SEC * 1000 + RECONCILE_MARGIN_MS,
      100,
    );
    const elapsed = Date.now() - changed;
    // The wait is the rest of the interval since the last refresh (second precision) plus the reconcile itself.
    const afterSchedule = (changed + elapsed - (lastRefresh + REFRESH_SEC * 1000)) / 1000;
    process.stdout.write(
      `external-secrets e2e: KV change to updated Secret in ${(elapsed / 1000).toFixed(1)} s (refreshInterval ${REFRESH_SEC} s; ${afterSchedule.toFixed(1)} s after the scheduled refresh, +-1 s)\n`,
    );
    expect(elapsed).toBeLessThanOrEqual(REFRESH_SEC * 1000 + RECONCILE_MARGIN_MS);
  });

  it("refuses a store whose audience differs from the role's: the store and its ExternalSecret end in error, no Secret", async () => {
    const s = clone(store());
    s.metadata.name = "vault-shop-wrong-audience";
    s.spec.provider.vault.auth.kubernetes.serviceAccountRef.audiences = ["not-vault"];
    const es = clone(externalSecret());
    es.metadata.name = "shop-db-wrong-audience";
    es.spec.target.name = "shop-db-wrong-audience";
    es.spec.secretStoreRef.name = s.metadata.name;
    await apply(s);
    await apply(es);
    expect(await failed("SecretStore", "shop", s.metadata.name)).toMatchObject({ reason: "InvalidProviderConfig" });
    // The controller's event carries Vault's answer to the login: the role's audience refuses the token.
    expect(await eventsMatching("shop", s.metadata.name, /permission denied|403/)).toMatch(/auth\/kubernetes-apps-prod\/login/);
    expect(await failed("ExternalSecret", "shop", es.metadata.name)).toMatchObject({ reason: "SecretSyncedError" });
    expect(await secretValue("shop", "shop-db-wrong-audience", "DB_PASSWORD")).toBeUndefined();
  });

  it("refuses an ExternalSecret naming another tenant's path, through the written store and through a store pointed at that tenant's mount: error, no Secret", async () => {
    const byKey = clone(externalSecret());
    byKey.metadata.name = "stolen-by-key";
    byKey.spec.target.name = "stolen-by-key";
    byKey.spec.data[0].remoteRef.key = "tenants/other/kv/db";
    await apply(byKey);

    const otherMount = clone(store());
    otherMount.metadata.name = "vault-shop-other-mount";
    otherMount.spec.provider.vault.path = "tenants/other/kv";
    const byMount = clone(externalSecret());
    byMount.metadata.name = "stolen-by-mount";
    byMount.spec.target.name = "stolen-by-mount";
    byMount.spec.secretStoreRef.name = otherMount.metadata.name;
    await apply(otherMount);
    await apply(byMount);

    // The written store keeps every key inside tenants/shop/kv: there is no such secret there.
    expect(await failed("ExternalSecret", "shop", "stolen-by-key")).toMatchObject({ reason: "SecretSyncedError" });
    // A store naming the other mount logs in (the role is the tenant's), and Vault refuses the read: tenant-shop reaches only tenants/shop/.
    expect(await failed("ExternalSecret", "shop", "stolen-by-mount")).toMatchObject({ reason: "SecretSyncedError" });
    expect(await eventsMatching("shop", "stolen-by-mount", /permission denied|403/)).toMatch(/tenants\/other\/kv\/data\/db/);
    for (const name of ["stolen-by-key", "stolen-by-mount"]) expect(await secretValue("shop", name, "DB_PASSWORD")).toBeUndefined();
  });
});
