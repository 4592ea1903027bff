// The request table the policy tests replay (support/tenant-stack-requests.ts)
// checked against tenant stacks as they synthesize: every resource type comes
// with requests that create it and read it back, every attribute a resource
// sets is carried by a request to a parameter it sends (or named as
// Terraform's own), the table maps nothing the stacks do not set, the paths
// name what the stacks name, and what the provisioner policy allows only given
// values of is replayed with the stacks' values. A new attribute in a tenant
// stack (say audit_non_hmac_response_keys on the KV mount) fails here until the
// table, and so the policy tests' replay, carries it.
import type { TenantConfig } from "../config/tenant-schema";
import { environmentPolicies } from "../policies";
import { exampleEnv, exampleTenants, synthEnvironment, type TfJson } from "./helpers";
import { IN_PATH, isWrite, tenantStackRequests, type ProviderRequest } from "./support/tenant-stack-requests";

const env = exampleEnv();
const examples = exampleTenants(env);
const payments = examples.find((t) => t.name === "payments") as TenantConfig;

/** A third tenant with every engine too, two transit keys, read-only database access and its own audience. */
const ledger: TenantConfig = {
  ...payments,
  name: "ledger",
  namespaces: ["ledger", "ledger-jobs"],
  serviceAccounts: ["ledger-api"],
  audience: "https://vault.ledger.internal",
  engines: {
    ...payments.engines,
    transit: { keys: ["entries", "journal"] },
    postgres: payments.engines.postgres && { ...payments.engines.postgres, access: "readonly" },
  },
};
const tenants = [...examples, ledger];

/** One resource of a stack (or its provider block), its attributes flattened into dotted names. */
interface Instance {
  readonly tenant: TenantConfig;
  readonly type: string;
  readonly name: string;
  readonly config: Record<string, unknown>;
  readonly attributes: Readonly<Record<string, unknown>>;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The table for an instance's tenant, naming the instance's transit key where it is one. */
function tableFor(i: Pick<Instance, "tenant" | "type" | "config">): ProviderRequest[] {
  const key = i.type === "vault_transit_secret_backend_key" ? String(i.config.name) : undefined;
  return tenantStackRequests(i.tenant.name, i.tenant.cluster, key);
}

/** The table's requests that come from this resource (its type, and its `where` attributes). */
function requestsFrom(i: Instance, table = tableFor(i)): ProviderRequest[] {
  return table.filter((r) => r.from.type === i.type && Object.entries(r.from.where ?? {}).every(([k, v]) => i.attributes[k] === v));
}

/** Leaves of a resource's configuration, by dotted name; map attributes the table carries whole stay whole. */
function flatten(type: string, config: Obj, whole: ReadonlySet<string>, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === "//") continue; // cdktf's metadata
    const name = `${prefix}${k}`;
    if (isObject(v) && !whole.has(`${type} ${name}`)) Object.assign(out, flatten(type, v, whole, `${name}.`));
    else out[name] = v;
  }
  return out;
}

function instancesOf(tenant: TenantConfig, tf: TfJson): Instance[] {
  const table = tenantStackRequests(tenant.name, tenant.cluster);
  const whole = new Set(table.flatMap((r) => Object.keys(r.from.carries ?? {}).map((a) => `${r.from.type} ${a}`)));
  const out: Instance[] = [];
  for (const [type, byName] of Object.entries(tf.resource ?? {})) {
    for (const [name, config] of Object.entries(byName)) out.push({ tenant, type, name, config, attributes: flatten(type, config, whole) });
  }
  for (const [provider, blocks] of Object.entries(tf.provider ?? {})) {
    blocks.forEach((config, n) =>
      out.push({ tenant, type: `provider.${provider}`, name: String(n), config, attributes: flatten(`provider.${provider}`, config, whole) }),
    );
  }
  return out;
}

const label = (i: Instance, attribute?: string) => `${i.tenant.name}: ${i.type}.${i.name}${attribute ? ` ${attribute}` : ""}`;

/** Attributes that no request of the table carries (nor names as Terraform's own). */
function uncarried(instances: readonly Instance[]): string[] {
  const problems: string[] = [];
  for (const i of instances) {
    const from = requestsFrom(i).filter(isWrite);
    if (from.length === 0) problems.push(`${label(i)}: no request of the table creates it`);
    for (const attribute of Object.keys(i.attributes)) {
      if (!from.some((r) => r.from.carries?.[attribute] !== undefined || r.from.terraformOnly?.[attribute] !== undefined)) problems.push(label(i, attribute));
    }
  }
  return problems;
}

function valueAt(body: Obj | undefined, dotted: string): { found: boolean; value?: unknown } {
  let at: unknown = body;
  for (const part of dotted.split(".")) {
    if (!isObject(at) || !(part in at)) return { found: false };
    at = at[part];
  }
  return { found: true, value: at };
}

/** A literal value, or the attribute another resource of the stack holds (`${type.name.attribute}`); undefined for anything else (a variable). */
function resolve(tf: TfJson, value: unknown): unknown {
  if (typeof value !== "string" || !value.includes("${")) return value;
  const m = /^\$\{([a-z_]+)\.([^.}]+)\.([a-z_]+)\}$/.exec(value);
  return m ? resolve(tf, tf.resource?.[m[1]]?.[m[2]]?.[m[3]]) : undefined;
}

let stacks: { tenant: TenantConfig; tf: TfJson }[];
let instances: Instance[];
beforeAll(() => {
  const synth = synthEnvironment(env, tenants);
  stacks = tenants.map((tenant) => ({ tenant, tf: synth.tenants[tenant.name] }));
  instances = stacks.flatMap(({ tenant, tf }) => instancesOf(tenant, tf));
});

describe("the tenant stack's request table", () => {
  it("is checked against stacks with every engine and resource type", () => {
    expect(stacks.map((s) => s.tenant.name)).toEqual(["payments", "search", "ledger"]);
    const types = new Set(instances.map((i) => i.type));
    for (const type of [
      "vault_mount",
      "vault_kv_secret_backend_v2",
      "vault_transit_secret_backend_key",
      "vault_database_secret_backend_connection",
      "vault_database_secret_backend_role",
      "vault_kubernetes_auth_backend_role",
      "provider.vault",
    ]) {
      expect([type, types.has(type)]).toEqual([type, true]);
    }
    expect(
      instances
        .filter((i) => i.type === "vault_mount")
        .map((i) => `${i.tenant.name} ${String(i.attributes.type)}`)
        .sort(),
    ).toEqual(["ledger database", "ledger kv", "ledger transit", "payments database", "payments kv", "payments transit", "search kv"]);
  });

  it("has requests that create every resource type of the tenant stacks and read it back", () => {
    const missing: string[] = [];
    for (const type of new Set(instances.map((i) => i.type))) {
      const from = tenantStackRequests("t", "c").filter((r) => r.from.type === type);
      if (!from.some(isWrite)) missing.push(`${type}: no write`);
      if (!from.some((r) => r.method === "GET")) missing.push(`${type}: no read`);
    }
    expect(missing).toEqual([]);
  });

  it("carries every attribute each resource of the tenant stacks sets", () => {
    expect(uncarried(instances)).toEqual([]);
  });

  it("would catch an attribute it does not carry: audit_non_hmac_response_keys on the KV mount", () => {
    const tf = structuredClone(stacks[0].tf);
    const [name, kv] = Object.entries(tf.resource?.vault_mount ?? {}).find(([, m]) => m.type === "kv") ?? [];
    (kv as Obj).audit_non_hmac_response_keys = ["data"];
    expect(uncarried(instancesOf(stacks[0].tenant, tf))).toEqual([`payments: vault_mount.${name} audit_non_hmac_response_keys`]);
  });

  it("carries each attribute to a parameter its request sends, or in its path", () => {
    const problems: string[] = [];
    for (const r of tenantStackRequests("t", "c")) {
      for (const [attribute, parameter] of Object.entries(r.from.carries ?? {})) {
        if (parameter !== IN_PATH && !valueAt(r.body, parameter).found) problems.push(`${r.what}: ${attribute} -> ${parameter}, which it does not send`);
      }
      if (r.from.carries && !isWrite(r)) problems.push(`${r.what}: a read carries nothing`);
    }
    expect(problems).toEqual([]);
  });

  it("maps nothing the tenant stacks do not set", () => {
    const problems: string[] = [];
    for (const r of tenantStackRequests("t", "c")) {
      const matching = instances.filter((i) => requestsFrom(i).some((q) => q.what === r.what));
      if (matching.length === 0) problems.push(`${r.what}: no resource of the stacks is ${r.from.type} ${JSON.stringify(r.from.where ?? {})}`);
      for (const attribute of [...Object.keys(r.from.carries ?? {}), ...Object.keys(r.from.terraformOnly ?? {})]) {
        if (!matching.some((i) => attribute in i.attributes)) problems.push(`${r.what}: ${attribute}, which no ${r.from.type} of the stacks sets`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("names in each request's path what the stacks name (mount paths, backends, key, connection and role names)", () => {
    const problems: string[] = [];
    let checked = 0;
    for (const { tenant, tf } of stacks) {
      for (const i of instances.filter((x) => x.tenant === tenant)) {
        for (const r of requestsFrom(i).filter(isWrite)) {
          for (const [attribute, parameter] of Object.entries(r.from.carries ?? {})) {
            if (parameter !== IN_PATH) continue;
            const value = resolve(tf, i.attributes[attribute]);
            checked++;
            if (typeof value !== "string" || !`/${r.path}/`.includes(`/${value}/`))
              problems.push(`${label(i, attribute)} = ${JSON.stringify(value)}, not in ${r.method} ${r.path}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it("replays with the stacks' values every parameter the provisioner policy allows only given values of", () => {
    const provisioner = environmentPolicies(env.tenancy.clusters.map((c) => c.name)).provisioner;
    const restricted = new Set([...provisioner.matchAll(/"([a-z_]+)"\s*=\s*\[\s*[^\]\s][^\]]*\]/g)].map((m) => m[1]));
    expect([...restricted].sort()).toEqual(expect.arrayContaining(["allow_plaintext_backup", "deletion_allowed", "exportable", "token_type", "type"]));
    const problems: string[] = [];
    let checked = 0;
    for (const i of instances) {
      for (const r of requestsFrom(i).filter(isWrite)) {
        for (const [attribute, parameter] of Object.entries(r.from.carries ?? {})) {
          if (parameter === IN_PATH || !restricted.has(parameter.split(".").at(-1) ?? "")) continue;
          const value = i.attributes[attribute];
          if (JSON.stringify(value).includes("${")) continue;
          checked++;
          const sent = valueAt(r.body, parameter).value;
          if (JSON.stringify(sent) !== JSON.stringify(value))
            problems.push(`${label(i, attribute)} = ${JSON.stringify(value)}; "${r.what}" replays ${parameter} = ${JSON.stringify(sent)}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(10);
  });
});
