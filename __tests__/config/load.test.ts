import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { ConfigError, loadEnvironmentFile, loadEnvironments } from "../../config/load";
import { EXAMPLE_FILE, exampleData, merge } from "../helpers";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-config-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes the example with overrides as <name>.yaml and returns its path. */
function writeEnv(name: string, overrides: Record<string, unknown>): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(merge(exampleData(), { name, ...overrides })));
  return file;
}

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected a ConfigError, but the file loaded");
}

/** Loads a bad file and returns the one problem line that names `field`. */
function failure(file: string, field: string): string {
  const problems = problemsOf(() => loadEnvironmentFile(file));
  const line = problems.find((p) => p.includes(`: ${field}: `));
  if (!line) throw new Error(`no problem names ${field}:\n${problems.join("\n")}`);
  expect(line.startsWith(`${file}:`)).toBe(true);
  expect(line).toMatch(/^[^:]+:\d+:\d+: /); // file:line:col
  expect(line).not.toMatch(/\n|at .*\(.*\.ts:\d+/); // one line, no stack trace
  return line;
}

describe("loadEnvironmentFile", () => {
  it("loads the example and applies defaults", () => {
    const env = loadEnvironmentFile(EXAMPLE_FILE);
    expect(env.name).toBe("example");
    expect(env.vault.replicas).toBe(3);
    expect(env.vault.tls.minVersion).toBe("tls12");
    expect(env.bootstrap.planTokenPeriod).toBe(3600);
    expect(env.delivery.applyTokenTtl).toBe(900);
    expect(env.tenancy.clusters.map((c) => c.name)).toEqual(["apps-prod"]);
    expect(env.gcpAuth.tokenTtl).toBe(1800);
    expect(env.tenancy.maxTokenTtl).toBe(3600);
  });

  it("fills defaults for omitted sections", () => {
    const file = writeEnv("minimal", { nodePool: undefined, kms: undefined, gcpAuth: undefined, tenancy: undefined });
    const env = loadEnvironmentFile(file);
    expect(env.nodePool).toEqual({ machineType: "n2-standard-2", nodesPerZone: 1, diskSizeGb: 50, diskType: "pd-balanced" });
    expect(env.kms.rotationPeriodDays).toBe(90);
  });

  it("fails on an unknown field, naming it", () => {
    const line = failure(writeEnv("unknown", { projcet: "x" }), "projcet");
    expect(line).toContain("unknown field");
    expect(line).toContain("fix its spelling");
  });

  it("fails on an unknown nested field", () => {
    expect(failure(writeEnv("nested", { vault: { replicaz: 3 } }), "vault.replicaz")).toContain("unknown field");
  });

  it("fails on raft with an even replica count", () => {
    const line = failure(writeEnv("even", { vault: { replicas: 4 }, nodePool: { nodesPerZone: 2 } }), "vault.replicas");
    expect(line).toContain("got 4");
    expect(line).toContain("odd");
    expect(line).toContain("use 3 or 5");
  });

  // The node pool refuses fewer than 3 zones whatever the replicas: the schema says so first (it was a stack trace at synth).
  it("fails on a single zone for a 1-replica Vault", () => {
    const line = failure(writeEnv("onezone", { zones: ["europe-west1-b"], vault: { replicas: 1 } }), "zones");
    expect(line).toContain(`got ["europe-west1-b"]; list at least 3 zones of europe-west1`);
  });

  it("fails on fewer than 3 zones for a 3-replica Vault", () => {
    const line = failure(writeEnv("twozones", { zones: ["europe-west1-b", "europe-west1-c"], nodePool: { nodesPerZone: 2 } }), "zones");
    expect(line).toContain("at least 3 zones");
  });

  it("fails on a runner issuer that is not an https:// URL", () => {
    const line = failure(writeEnv("issuer", { delivery: { runnerIssuer: "http://issuer.acme.test" } }), "delivery.runnerIssuer");
    expect(line).toContain("must be an https:// URL of an OIDC issuer");
  });

  it("fails on a CIDR that does not parse", () => {
    const line = failure(writeEnv("badcidr", { vault: { exposure: { sourceRanges: ["10.0.0.0/33"] } } }), "vault.exposure.sourceRanges[0]");
    expect(line).toContain('got "10.0.0.0/33"');
    expect(line).toContain("a.b.c.d/n");
  });

  it("fails on a CIDR with host bits set", () => {
    const line = failure(writeEnv("hostbits", { cluster: { network: { subnetCidr: "10.10.0.1/20" } } }), "cluster.network.subnetCidr");
    expect(line).toContain("host bits zero");
  });

  it("fails on overlapping network ranges", () => {
    const line = failure(writeEnv("overlap", { cluster: { network: { podsCidr: "10.10.0.0/16" } } }), "cluster.network.podsCidr");
    expect(line).toContain("overlaps cluster.network.subnetCidr");
  });

  it("fails on a wrong type", () => {
    const line = failure(writeEnv("wrongtype", { nodePool: { nodesPerZone: "two" } }), "nodePool.nodesPerZone");
    expect(line).toContain('got "two", expected a number; write a number');
  });

  it("fails on a missing required field", () => {
    const line = failure(writeEnv("missing", { vault: { hostname: undefined } }), "vault.hostname");
    expect(line).toContain("is required");
  });

  it("fails on a value outside an enum, listing the choices", () => {
    const line = failure(writeEnv("badseal", { vault: { seal: "kms" } }), "vault.seal");
    expect(line).toContain('"gcpckms", "shamir"');
  });

  it("fails on a hostname that is not a DNS name", () => {
    const line = failure(writeEnv("badhost", { vault: { hostname: "Vault_Host" } }), "vault.hostname");
    expect(line).toContain("not a DNS name");
  });

  it("fails when TLS is disabled", () => {
    const line = failure(writeEnv("notls", { vault: { tls: { enabled: false } } }), "vault.tls.enabled");
    expect(line).toContain("TLS cannot be disabled");
  });

  it("fails on a zone outside the region", () => {
    const line = failure(writeEnv("badzone", { zones: ["europe-west1-b", "us-east1-c", "europe-west1-d"] }), "zones[1]");
    expect(line).toContain("not in region europe-west1");
  });

  it("fails on more replicas than zones times nodes", () => {
    const line = failure(writeEnv("toomany", { vault: { replicas: 5 } }), "vault.replicas");
    expect(line).toContain("cannot be placed one per node on 3 nodes");
    expect(line).toContain("raise nodePool.nodesPerZone");
  });

  it("fails on a key threshold above the share count", () => {
    expect(failure(writeEnv("threshold", { vault: { keyShares: 3, keyThreshold: 4 } }), "vault.keyThreshold")).toContain("cannot exceed");
  });

  it("fails on GCS storage with OpenBao", () => {
    expect(failure(writeEnv("baogcs", { vault: { distribution: "openbao", storage: "gcs" } }), "vault.storage")).toContain("OpenBao has no GCS");
  });

  it("fails on a public load balancer open to the world without the explicit switch", () => {
    const line = failure(writeEnv("world", { vault: { exposure: { internal: false, sourceRanges: ["0.0.0.0/0"] } } }), "vault.exposure.sourceRanges[0]");
    expect(line).toContain("allowWorldAccess: true");
  });

  it("fails on a CA rotation step that would sign with a CA clients do not trust yet", () => {
    const line = failure(writeEnv("casign", { vault: { tls: { ca: { signing: 2, trusted: [1] } } } }), "vault.tls.ca.signing");
    expect(line).toContain("vault.tls.ca.signing: got 2; this CA generation is not in tls.ca.trusted (1)");
    expect(line).toContain("add 2 to trusted first and apply, then sign with it");
  });

  it("fails on a CA generation listed twice, and on tls.ca with an existing secret", () => {
    expect(failure(writeEnv("catwice", { vault: { tls: { ca: { signing: 1, trusted: [1, 1] } } } }), "vault.tls.ca.trusted")).toContain(
      "lists a CA generation twice",
    );
    const line = failure(
      writeEnv("caexisting", { vault: { tls: { mode: "existingSecret", secretName: "cm", ca: { signing: 2, trusted: [2] } } } }),
      "vault.tls.ca",
    );
    expect(line).toContain("the issuer (cert-manager) rotates it: remove tls.ca");
  });

  it("fails on existingSecret TLS without a secret name", () => {
    expect(failure(writeEnv("nosecret", { vault: { tls: { mode: "existingSecret" } } }), "vault.tls.secretName")).toContain("kubernetes.io/tls");
  });

  it("fails on an unknown cluster mode", () => {
    expect(failure(writeEnv("badmode", { cluster: { mode: "import" } }), "cluster.mode")).toContain("'create'");
  });

  it("fails on an existing cluster without its location", () => {
    const file = writeEnv("existing", {});
    writeFileSync(
      file,
      stringify({ ...(merge(exampleData(), { name: "existing" }) as object), cluster: { mode: "existing", name: "shared", subnetwork: "s" } }),
    );
    expect(failure(file, "cluster.location")).toContain("is required");
  });

  it("fails on a malformed duration", () => {
    expect(failure(writeEnv("duration", { bootstrap: { planTokenPeriod: "1 hour" } }), "bootstrap.planTokenPeriod")).toContain("for example 1h");
  });

  it("fails on the old provisionerTokenPeriod, saying what replaced it", () => {
    expect(failure(writeEnv("oldfield", { bootstrap: { provisionerTokenPeriod: "1h" } }), "bootstrap.provisionerTokenPeriod")).toContain(
      "renamed to planTokenPeriod",
    );
  });

  it("fails on an apply credential that would live longer than 20 minutes", () => {
    const line = failure(writeEnv("applyttl", { delivery: { applyTokenTtl: "1h" } }), "delivery.applyTokenTtl");
    expect(line).toContain('got "60m"');
    expect(line).toContain("at most 20m");
  });

  it("fails on a cluster registered twice", () => {
    const clusters = (exampleData().tenancy as { clusters: unknown[] }).clusters;
    expect(failure(writeEnv("twice", { tenancy: { clusters: [...clusters, ...clusters] } }), "tenancy.clusters[1].name")).toContain("registered twice");
  });

  it("fails on a registered cluster whose CA is not a certificate", () => {
    const line = failure(
      writeEnv("badca", { tenancy: { clusters: [{ name: "apps", apiServerUrl: "https://10.0.0.1", caCertificate: "not a cert" }] } }),
      "tenancy.clusters[0].caCertificate",
    );
    expect(line).toContain("not a PEM certificate");
  });

  it("fails on an existing cluster in a shared project without the acknowledgement", () => {
    const file = writeEnv("sharedwi", {});
    writeFileSync(
      file,
      stringify({
        ...(merge(exampleData(), { name: "sharedwi" }) as object),
        cluster: { mode: "existing", name: "shared", location: "europe-west1", subnetwork: "s" },
      }),
    );
    const line = failure(file, "cluster.sharedProjectAcknowledged");
    expect(line).toContain("any cluster of this project");
    expect(line).toContain("dedicated project");
  });

  it("fails on an environment name too long for the service account ids built from it", () => {
    const file = writeEnv("sixteen", { name: "a-sixteen-chars1" });
    const line = failure(file, "name");
    expect(line).toContain("at most 15 characters");
    expect(line).toContain("<name>-vault-snapshot must fit Google's 30-character limit");
    expect(`a-fifteen-chars-vault-snapshot`.length).toBe(30);
  });

  it("fails on break-glass accounts without admins (GCP auth, and its break-glass role, exists only with admins)", () => {
    const file = writeEnv("glassonly", {
      gcpAuth: { adminServiceAccounts: [], breakGlassServiceAccounts: ["glass@acme-vault-example.iam.gserviceaccount.com"] },
    });
    const line = failure(file, "gcpAuth.breakGlassServiceAccounts");
    expect(line).toContain("glass@acme-vault-example.iam.gserviceaccount.com");
    expect(line).toContain("list gcpAuth.adminServiceAccounts too, or remove these");
  });

  it("fails on an admin that is not an email", () => {
    expect(failure(writeEnv("admin", { gcpAuth: { adminServiceAccounts: ["vault-admin"] } }), "gcpAuth.adminServiceAccounts[0]")).toContain(
      "not a service account email",
    );
  });

  const withCluster = (field: string) => (value: unknown) => ({
    tenancy: { clusters: [{ ...(exampleData().tenancy as { clusters: object[] }).clusters[0], [field]: value }] },
  });
  const EMAIL_FIX = "; not a service account email; write its email, for example deployer@my-project.iam.gserviceaccount.com";
  const CRON_FIX = '; for example "0 */6 * * *" (every six hours)';
  let n = 0;
  it.each([
    ["snapshots.retentionLocked", "yes", (v: unknown) => ({ snapshots: { retentionLocked: v } }), ", expected a boolean; write true or false"],
    ["vault.unauthenticatedMetrics", "yes", (v: unknown) => ({ vault: { unauthenticatedMetrics: v } }), ", expected a boolean; write true or false"],
    ["tenancy.clusters[0].externalSecretsOperator", "installed", withCluster("externalSecretsOperator"), ", expected a boolean; write true or false"],
    ["gcpAuth.breakGlassServiceAccounts[0]", "break-glass", (v: unknown) => ({ gcpAuth: { breakGlassServiceAccounts: [v] } }), EMAIL_FIX],
    ["delivery.planServiceAccounts[0]", "ci-plan", (v: unknown) => ({ delivery: { planServiceAccounts: [v] } }), EMAIL_FIX],
    ["delivery.applyServiceAccounts[0]", "deployer@", (v: unknown) => ({ delivery: { applyServiceAccounts: [v] } }), EMAIL_FIX],
    ["tenancy.clusters[0].apiServerUrl", "http://203.0.113.9", withCluster("apiServerUrl"), "; must be the https:// URL of the cluster's API server"],
    ["tenancy.clusters[0].apiServerUrl", "203.0.113.9", withCluster("apiServerUrl"), "; must be the https:// URL of the cluster's API server"],
    [
      "tenancy.clusters[0].name",
      "Apps_Prod",
      withCluster("name"),
      "; tenancy.clusters[].name must be lowercase letters, digits and '-', starting with a letter",
    ],
    ["snapshots.schedule", "0 25 * * *", (v: unknown) => ({ snapshots: { schedule: v } }), `; cron hour "25" is outside 0-23${CRON_FIX}`],
    [
      "snapshots.schedule",
      "0 0 * JAN *",
      (v: unknown) => ({ snapshots: { schedule: v } }),
      `; cron month "JAN" is not a number, a range, * or a step (*/n)${CRON_FIX}`,
    ],
  ])("fails on %s %j, naming the file, the value and the fix", (field, value, overrides, fix) => {
    expect(failure(writeEnv(`bad${n++}`, overrides(value)), field)).toContain(`: ${field}: got ${JSON.stringify(value)}${fix}`);
  });

  // Service accounts name Terraform resources (config/account-ids.ts): a list that would give two resources one
  // address was a cdktf stack trace at synth; the schema refuses it with the field, the value and the fix.
  const SA = (name: string) => `${name}@acme-vault-example.iam.gserviceaccount.com`;
  it.each([
    [
      "an admin listed twice",
      { gcpAuth: { adminServiceAccounts: [SA("ops"), SA("ops")] } },
      "gcpAuth.adminServiceAccounts[1]",
      "this account is listed twice (gcpAuth.adminServiceAccounts[0]); list each account once",
    ],
    [
      "an admin that is also break-glass",
      { gcpAuth: { adminServiceAccounts: [SA("ops")], breakGlassServiceAccounts: [SA("ops")] } },
      "gcpAuth.breakGlassServiceAccounts[0]",
      "this account is also an admin (gcpAuth.adminServiceAccounts[0]): a break-glass account is one that nobody uses day to day",
    ],
    [
      "an apply account listed twice",
      { delivery: { applyServiceAccounts: [SA("ci"), SA("atlantis"), SA("ci")] } },
      "delivery.applyServiceAccounts[2]",
      "this account is listed twice (delivery.applyServiceAccounts[0]); list each account once",
    ],
    [
      "two admins whose resource names are one",
      { gcpAuth: { adminServiceAccounts: ["ops-admin@p-x.iam.gserviceaccount.com", "ops@admin-p-x.iam.gserviceaccount.com"] } },
      "gcpAuth.adminServiceAccounts[1]",
      'names the same Terraform resources as "ops-admin@p-x.iam.gserviceaccount.com" (gcpAuth.adminServiceAccounts[0]), since resource names keep only an email\'s letters and digits; use another service account for one of the two',
    ],
    [
      "a plan and an apply account whose resource names are one",
      { delivery: { planServiceAccounts: ["ci-plan@p.iam.gserviceaccount.com"], applyServiceAccounts: ["ci@plan-p.iam.gserviceaccount.com"] } },
      "delivery.applyServiceAccounts[0]",
      'names the same Terraform resources as "ci-plan@p.iam.gserviceaccount.com" (delivery.planServiceAccounts[0])',
    ],
  ])("fails on %s, naming the second entry, its value and the fix", (_, overrides, field, fix) => {
    const line = failure(writeEnv(`accounts${n++}`, overrides), field);
    expect(line).toMatch(new RegExp(`: ${field.replace(/[.[\]]/g, "\\$&")}: got "[^"]+"; `));
    expect(line).toContain(fix);
  });

  it("loads an account that both plans and applies, and a plan account listed twice (their plan token grant is one)", () => {
    const env = loadEnvironmentFile(writeEnv("planapply", { delivery: { planServiceAccounts: [SA("ci"), SA("ci")], applyServiceAccounts: [SA("ci")] } }));
    expect(env.delivery.applyServiceAccounts).toEqual([SA("ci")]);
  });

  it("fails on a token TTL above its maximum", () => {
    expect(failure(writeEnv("ttl", { gcpAuth: { tokenTtl: "3h" } }), "gcpAuth.tokenTtl")).toContain("cannot exceed gcpAuth.tokenMaxTtl");
  });

  it("fails when the name does not match the file name", () => {
    const file = join(dir, "named.yaml");
    writeFileSync(file, stringify(merge(exampleData(), { name: "other" })));
    expect(failure(file, "name")).toContain("write name: named");
  });

  it("fails on YAML syntax errors with the line", () => {
    const file = join(dir, "syntax.yaml");
    writeFileSync(file, "name: syntax\nvault:\n  replicas: [3\n");
    const [line] = problemsOf(() => loadEnvironmentFile(file));
    expect(line).toMatch(new RegExp(`^${file}:\\d+:\\d+: not valid YAML`));
  });

  it("fails on a duplicate key", () => {
    const file = join(dir, "dupkey.yaml");
    writeFileSync(file, "name: dupkey\nname: again\n");
    expect(problemsOf(() => loadEnvironmentFile(file))[0]).toContain("not valid YAML");
  });

  it("fails on a file that does not exist, naming it", () => {
    expect(problemsOf(() => loadEnvironmentFile(join(dir, "nope.yaml")))).toEqual([`${join(dir, "nope.yaml")}: cannot read the file (ENOENT); check the path`]);
  });

  it("reports the line of the offending value", () => {
    const file = join(dir, "lines.yaml");
    writeFileSync(file, stringify(merge(exampleData(), { name: "lines", vault: { seal: "kms" } })));
    const line = failure(file, "vault.seal");
    const lineNo = Number(line.slice(file.length + 1).split(":")[0]);
    const text = require("node:fs").readFileSync(file, "utf8").split("\n")[lineNo - 1];
    expect(text).toMatch(/seal: kms/);
  });
});

describe("loadEnvironments", () => {
  it("reports the problems of every file at once", () => {
    const multi = join(dir, "multi");
    mkdirSync(multi);
    writeFileSync(join(multi, "a.yaml"), stringify(merge(exampleData(), { name: "a", vault: { replicas: 4 } })));
    writeFileSync(join(multi, "b.yaml"), stringify(merge(exampleData(), { name: "b", region: "nowhere" })));
    const problems = problemsOf(() => loadEnvironments(multi));
    expect(problems.some((p) => p.startsWith(join(multi, "a.yaml")))).toBe(true);
    expect(problems.some((p) => p.startsWith(join(multi, "b.yaml")))).toBe(true);
  });

  it("fails on an empty directory with the fix", () => {
    const empty = join(dir, "empty");
    mkdirSync(empty);
    expect(problemsOf(() => loadEnvironments(empty))[0]).toContain("copy environments/example.yaml");
  });
});
