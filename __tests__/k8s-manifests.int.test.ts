// The vault stack's Kubernetes objects under checkov's whole Kubernetes policy
// set. checkov runs only a few checks on kubernetes_* Terraform resources, so
// the test renders them as the manifests the provider would send
// (support/k8s-manifests.ts), proves field by field that the rendering loses
// nothing of the synthesized JSON and converts the provider's forms to the
// API's, then runs `checkov --framework kubernetes` on them: no failed check,
// at least 80 passed on the StatefulSet, and only the skips that
// checkov-kubernetes.yaml justifies.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { exampleEnv, exampleTenants, ROOT, synthEnvironment, type TfJson } from "./helpers";
import {
  renderResource,
  renderStack,
  resolveReferences,
  terraformLeaves,
  valueAt,
  type Json,
  type RenderedObject,
  type TerraformJson,
} from "./support/k8s-manifests";

jest.setTimeout(120_000);

const CHECKOV = join(ROOT, ".tools", "bin", "checkov");
const CONFIG = join(ROOT, "checkov-kubernetes.yaml");

let vault: TfJson;
let rendered: RenderedObject[];

beforeAll(() => {
  const env = exampleEnv();
  vault = synthEnvironment(env, exampleTenants(env)).vault;
  rendered = renderStack(vault as TerraformJson);
});

/** Leaves of a manifest (scalars, empty lists and objects), not counting apiVersion and kind. */
function manifestLeaves(value: unknown): number {
  if (Array.isArray(value)) return value.length === 0 ? 1 : value.reduce((n: number, v) => n + manifestLeaves(v), 0);
  if (typeof value === "object" && value !== null) {
    const entries = Object.values(value);
    return entries.length === 0 ? 1 : entries.reduce((n: number, v) => n + manifestLeaves(v), 0);
  }
  return 1;
}

/** The Terraform leaves the rendering did not account for (empty when nothing was lost). */
function lost(tf: TfJson, object: RenderedObject): string[] {
  const [type, name] = object.address.split(".");
  // A kubernetes_manifest carries its apiVersion and kind; the other resources' come from their type.
  const accounted = new Set([...object.fields.map((f) => f.tfPath), ...object.terraformOnly, "manifest.apiVersion", "manifest.kind"]);
  return terraformLeaves(tf.resource?.[type]?.[name]).filter(
    (leaf) => ![...accounted].some((a) => leaf === a || leaf.startsWith(`${a}.`) || leaf.startsWith(`${a}[`)),
  );
}

/** Is the API value the provider's value in the API's form? */
function equivalent(tf: TerraformJson, tfValue: Json, k8sValue: Json): boolean {
  if (typeof tfValue !== "string") return JSON.stringify(tfValue) === JSON.stringify(k8sValue);
  const resolved = resolveReferences(tf, tfValue);
  if (typeof resolved !== "string") return resolved === k8sValue;
  return (
    k8sValue === resolved ||
    (typeof k8sValue === "number" && (k8sValue === Number(resolved) || k8sValue === parseInt(resolved, 8))) ||
    k8sValue === Buffer.from(resolved).toString("base64")
  );
}

describe("rendering the vault stack's kubernetes_* resources as manifests", () => {
  it("renders every kubernetes_* resource", () => {
    const types = Object.keys(vault.resource ?? {}).filter((t) => t.startsWith("kubernetes_"));
    const count = types.reduce((n, t) => n + Object.keys(vault.resource?.[t] ?? {}).length, 0);
    expect(rendered).toHaveLength(count);
    expect(rendered.map((r) => r.manifest.kind)).toEqual(
      expect.arrayContaining([
        "StatefulSet",
        "Service",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Role",
        "RoleBinding",
        "ServiceAccount",
        "Secret",
        "ConfigMap",
        "Namespace",
        "StorageClass",
      ]),
    );
  });

  it("loses no field of the Terraform JSON, and adds none", () => {
    for (const object of rendered) {
      expect({ address: object.address, lost: lost(vault, object) }).toEqual({ address: object.address, lost: [] });
      expect({ address: object.address, leaves: manifestLeaves(object.manifest) - 2 }).toEqual({ address: object.address, leaves: object.fields.length });
      for (const f of object.fields) {
        expect({ path: f.k8sPath, value: valueAt(object.manifest, f.k8sPath) }).toEqual({ path: f.k8sPath, value: f.k8sValue });
        expect({ path: f.tfPath, equivalent: equivalent(vault as TerraformJson, f.tfValue, f.k8sValue) }).toEqual({ path: f.tfPath, equivalent: true });
      }
    }
    // Only the provider's own wait flag is left out.
    expect(rendered.flatMap((r) => r.terraformOnly)).toEqual(["wait_for_rollout"]);
  });

  it("would notice a lost field", () => {
    const sts = rendered.find((r) => r.manifest.kind === "StatefulSet") as RenderedObject;
    const image = sts.fields.find((f) => f.tfPath.endsWith("container[0].image")) as { tfPath: string };
    expect(lost(vault, { ...sts, fields: sts.fields.filter((f) => f !== image) })).toEqual([image.tfPath]);
  });

  it("converts the provider's forms to the API's", () => {
    const sts = rendered.find((r) => r.manifest.kind === "StatefulSet")?.manifest as Record<string, Json>;
    const pod = valueAt(sts, "spec.template.spec") as Record<string, Json>;
    expect(valueAt(sts, "spec.replicas")).toBe(3);
    expect(valueAt(sts, "metadata.namespace")).toBe("vault");
    expect(valueAt(pod, "volumes[0].configMap.defaultMode")).toBe(0o440);
    expect(valueAt(pod, "volumes[0].configMap.name")).toBe("vault-config");
    expect(valueAt(pod, "securityContext.fsGroup")).toBe(1000);
    expect(valueAt(pod, "containers[0].readinessProbe.httpGet.port")).toBe(8200);
    expect(valueAt(pod, "containers[0].lifecycle.preStop.exec.command")).toEqual(["/bin/sh", "-c", "sleep 5"]);
    expect(valueAt(pod, "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels")).toBeDefined();
    expect(valueAt(sts, "spec.volumeClaimTemplates[1].metadata.name")).toBe("audit");
    const sidecar = (pod.containers as Record<string, Json>[]).find((c) => c.name === "bootstrap") as Record<string, Json>;
    expect(valueAt(sidecar, "livenessProbe.httpGet")).toEqual({ path: "/livez", port: 8210, scheme: "HTTP" });
    expect(valueAt(sidecar, "readinessProbe.httpGet")).toEqual({ path: "/readyz", port: 8210, scheme: "HTTP" });
    const secret = rendered.find((r) => r.manifest.kind === "Secret")?.manifest as Record<string, Json>;
    expect(Buffer.from(valueAt(secret, 'data["tls.key"]') as string, "base64").toString()).toMatch(/^computed:tls_private_key\./);
    const binding = rendered.find((r) => r.manifest.kind === "ClusterRoleBinding")?.manifest as Record<string, Json>;
    expect(valueAt(binding, "metadata.name")).toBe("vault-vault-auth-delegator");
    expect(valueAt(binding, "subjects[0].namespace")).toBe("vault");
    const sc = rendered.find((r) => r.manifest.kind === "StorageClass")?.manifest as Record<string, Json>;
    expect(sc.provisioner).toBe("pd.csi.storage.gke.io");
    const pdb = rendered.find((r) => r.manifest.kind === "PodDisruptionBudget")?.manifest as Record<string, Json>;
    expect(valueAt(pdb, "spec.maxUnavailable")).toBe(1);
  });

  it("maps a CronJob and a ServiceAccount the same way (the snapshot job to come)", () => {
    const tf: TerraformJson = {
      resource: {
        kubernetes_service_account_v1: { sa: { metadata: { name: "vault-snapshot", namespace: "vault" }, automount_service_account_token: false } },
        kubernetes_cron_job_v1: {
          snap: {
            metadata: { name: "vault-snapshot", namespace: "${kubernetes_service_account_v1.sa.metadata[0].namespace}" },
            spec: {
              schedule: "0 */6 * * *",
              timezone: "Etc/UTC",
              concurrency_policy: "Forbid",
              successful_jobs_history_limit: "3",
              job_template: [
                {
                  metadata: {},
                  spec: {
                    backoff_limit: 2,
                    template: [
                      {
                        metadata: {},
                        spec: {
                          service_account_name: "${kubernetes_service_account_v1.sa.metadata[0].name}",
                          restart_policy: "Never",
                          container: [{ name: "snapshot", image: "example/bootstrap:1", args: ["snapshot"], security_context: [{ run_as_non_root: true }] }],
                        },
                      },
                    ],
                  },
                },
              ],
            },
          },
        },
      },
    };
    const cron = renderResource(tf, "kubernetes_cron_job_v1", "snap");
    expect(cron.manifest).toEqual({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "vault-snapshot", namespace: "vault" },
      spec: {
        schedule: "0 */6 * * *",
        timeZone: "Etc/UTC",
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: {},
          spec: {
            backoffLimit: 2,
            template: {
              metadata: {},
              spec: {
                serviceAccountName: "vault-snapshot",
                restartPolicy: "Never",
                containers: [{ name: "snapshot", image: "example/bootstrap:1", args: ["snapshot"], securityContext: { runAsNonRoot: true } }],
              },
            },
          },
        },
      },
    });
    expect(renderResource(tf, "kubernetes_service_account_v1", "sa").manifest).toEqual({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "vault-snapshot", namespace: "vault" },
      automountServiceAccountToken: false,
    });
  });

  it("refuses to guess: two blocks where the API has one object, or an unknown resource type", () => {
    const tf: TerraformJson = {
      resource: { kubernetes_service_v1: { s: { metadata: { name: "x" }, spec: { session_affinity_config: [{}, {}] } } }, kubernetes_thing_v1: { t: {} } },
    };
    expect(() => renderResource(tf, "kubernetes_service_v1", "s")).toThrow(/a list of 2 blocks where the API has a single sessionAffinityConfig/);
    expect(() => renderResource(tf, "kubernetes_thing_v1", "t")).toThrow(/no Kubernetes kind known/);
  });
});

describe("checkov's Kubernetes framework on the rendered manifests", () => {
  let dir: string;
  let report: {
    summary: { passed: number; failed: number; skipped: number; parsing_errors: number; resource_count: number };
    results: {
      passed_checks?: { check_id: string; resource: string }[];
      failed_checks?: { check_id: string; resource: string; check_name: string }[];
      skipped_checks?: { check_id: string }[];
    };
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "vault-gke-k8s-"));
    for (const object of rendered) writeFileSync(join(dir, `${object.address.replace(/[^A-Za-z0-9_-]+/g, "_")}.yaml`), stringify(object.manifest));
    const run = spawnSync(CHECKOV, ["--config-file", CONFIG, "-d", dir, "-o", "json"], { cwd: dir, encoding: "utf8", timeout: 110_000 });
    if (run.error) throw new Error(`${CHECKOV}: ${run.error.message}; run \`npm run tools\` first`);
    report = JSON.parse(run.stdout) as typeof report;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads every manifest and fails no check", () => {
    expect(report.summary.parsing_errors).toBe(0);
    expect(report.summary.resource_count).toBeGreaterThanOrEqual(rendered.length);
    expect((report.results.failed_checks ?? []).map((c) => `${c.check_id} ${c.resource}: ${c.check_name}`)).toEqual([]);
    expect(report.summary.failed).toBe(0);
  });

  it("passes at least 80 checks on the StatefulSet", () => {
    const passed = (report.results.passed_checks ?? []).filter((c) => c.resource.startsWith("StatefulSet."));
    expect(passed.length).toBeGreaterThanOrEqual(80);
  });

  it("skips only the checks checkov-kubernetes.yaml justifies, each with a comment", () => {
    const config = parse(readFileSync(CONFIG, "utf8")) as { "skip-check": string[] };
    const text = readFileSync(CONFIG, "utf8");
    for (const id of config["skip-check"]) expect(text).toMatch(new RegExp(`#[^\\n]+\\n(#[^\\n]*\\n)*\\s+- ${id}\\n`));
    // Skipped checks do not show up as passed or failed; none of them may be one checkov no longer knows.
    const run = spawnSync(CHECKOV, ["--framework", "kubernetes", "--list"], { encoding: "utf8", timeout: 60_000 });
    for (const id of config["skip-check"]) expect(run.stdout).toContain(id);
  });
});
