// The External Secrets Operator v0.16.2 as the tenant-secrets end-to-end test
// runs it: the controller `npm run tools` built from the Go module proxy
// (.tools/eso/external-secrets), its CRDs (the module's deploy/crds/bundle.yaml)
// and the controller's ClusterRole and ClusterRoleBinding from the module's
// Helm chart (templates/rbac.yaml with the chart's own values.yaml), rendered
// here by a small evaluator of the few template forms that file uses (no Helm
// binary is built for one file). The controller runs as a local process with a
// kubeconfig for its service account: no kubelet, no webhook.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { projectRoot } from "./bao";
import type { KubeControlPlane } from "./kube-control-plane";
import { freePort } from "./ports";

export const ESO_DIR = join(projectRoot(), ".tools", "eso");
export const ESO_VERSION = "v0.16.2";
/** The chart's names with release name external-secrets in namespace external-secrets. */
export const ESO_NAMESPACE = "external-secrets";
export const ESO_SERVICE_ACCOUNT = "external-secrets";
const NAMES: Record<string, string> = {
  "external-secrets.fullname": "external-secrets",
  "external-secrets.serviceAccountName": ESO_SERVICE_ACCOUNT,
  "external-secrets.namespace": ESO_NAMESPACE,
};

function lookup(values: Record<string, unknown>, ref: string): unknown {
  if (!ref.startsWith(".Values.")) throw new Error(`unsupported template value ${ref}`);
  return ref
    .slice(".Values.".length)
    .split(".")
    .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], values);
}

const truthy = (v: unknown) => !(v === undefined || v === null || v === false || v === "" || v === 0 || (Array.isArray(v) && v.length === 0));

/**
 * Renders a chart template that uses only `if <.Values.x>` / `if and <.Values.x> <.Values.y>`, `else`,
 * `end` (each alone on its line), label includes (dropped) and the chart's name helpers; anything else throws.
 */
export function renderChartTemplate(text: string, values: Record<string, unknown>): Record<string, unknown>[] {
  const out: string[] = [];
  const stack: { active: boolean; taken: boolean }[] = [];
  for (const line of text.split("\n")) {
    const t = line.trim();
    const cond = /^\{\{-?\s*if\s+(.+?)\s*-?\}\}$/.exec(t);
    if (cond) {
      const and = /^and\s+(.+)$/.exec(cond[1]);
      const refs = and ? and[1].split(/\s+/) : [cond[1]];
      const value = refs.every((r) => truthy(lookup(values, r)));
      stack.push({ active: value, taken: value });
      continue;
    }
    if (/^\{\{-?\s*else\s*-?\}\}$/.test(t)) {
      const top = stack[stack.length - 1];
      top.active = !top.taken;
      top.taken = true;
      continue;
    }
    if (/^\{\{-?\s*end\s*-?\}\}$/.test(t)) {
      stack.pop();
      continue;
    }
    if (!stack.every((s) => s.active)) continue;
    if (/^\{\{-?\s*include "external-secrets\.labels" \. \| nindent \d+\s*\}\}$/.test(t)) continue;
    const rendered = line.replace(/\{\{\s*(?:include|template) "([^"]+)" \.\s*\}\}/g, (_, name: string) => {
      if (!(name in NAMES)) throw new Error(`unsupported template helper ${name}`);
      return NAMES[name];
    });
    if (rendered.includes("{{")) throw new Error(`unsupported template line: ${line}`);
    out.push(rendered);
  }
  return parseAllDocuments(out.join("\n"))
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((d): d is Record<string, unknown> => d !== null)
    .map((d) => ({ ...d, metadata: { ...(d.metadata as object), labels: undefined } }));
}

/** The chart's controller ClusterRole and its binding to the controller's service account, with the chart's default values. */
export function controllerRbac(): { clusterRole: Record<string, unknown>; binding: Record<string, unknown> } {
  const values = parse(readFileSync(join(ESO_DIR, "values.yaml"), "utf8")) as Record<string, unknown>;
  const docs = renderChartTemplate(readFileSync(join(ESO_DIR, "rbac.yaml"), "utf8"), values);
  const named = (kind: string) => docs.find((d) => d.kind === kind && (d.metadata as { name: string }).name === "external-secrets-controller");
  const clusterRole = named("ClusterRole");
  const binding = named("ClusterRoleBinding");
  if (!clusterRole || !binding) throw new Error("the chart's rbac.yaml rendered no external-secrets-controller ClusterRole and ClusterRoleBinding");
  return { clusterRole, binding };
}

async function must(kube: KubeControlPlane, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await kube.api(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
  return res.body;
}

export interface EsoController {
  readonly log: () => string;
  stop(): Promise<void>;
}

/**
 * Installs the CRDs and the controller's RBAC into the cluster, mints a token for the controller's service
 * account, and starts the controller with a kubeconfig that carries only that token.
 */
export async function startEsoController(kube: KubeControlPlane, dir: string): Promise<EsoController> {
  const bin = join(ESO_DIR, "external-secrets");
  if (!existsSync(bin) || readFileSync(join(ESO_DIR, "VERSION"), "utf8").trim() !== ESO_VERSION)
    throw new Error(`${bin} ${ESO_VERSION} is missing: run \`npm run tools\` first`);
  const crds = parseAllDocuments(readFileSync(join(ESO_DIR, "bundle.yaml"), "utf8"))
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((d): d is Record<string, unknown> => d?.kind === "CustomResourceDefinition");
  for (const crd of crds) await must(kube, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  for (const name of ["secretstores", "externalsecrets", "clustersecretstores"]) {
    const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}.external-secrets.io`;
    const end = Date.now() + 60_000;
    for (;;) {
      const res = await kube.api("GET", path);
      const conditions = ((res.body.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []) as {
        type: string;
        status: string;
      }[];
      if (conditions.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > end) throw new Error(`CRD ${name} not established within 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await must(kube, "POST", "/api/v1/namespaces", { metadata: { name: ESO_NAMESPACE } });
  await must(kube, "POST", `/api/v1/namespaces/${ESO_NAMESPACE}/serviceaccounts`, { metadata: { name: ESO_SERVICE_ACCOUNT } });
  const { clusterRole, binding } = controllerRbac();
  await must(kube, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", clusterRole);
  await must(kube, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding);
  const minted = await must(kube, "POST", `/api/v1/namespaces/${ESO_NAMESPACE}/serviceaccounts/${ESO_SERVICE_ACCOUNT}/token`, {
    spec: { expirationSeconds: 7200 },
  });
  const token = String((minted.status as { token: string }).token);
  const kubeconfig = join(dir, "eso-kubeconfig");
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${kube.url}\n    certificate-authority: ${kube.caFile}\n` +
      `users:\n- name: eso\n  user:\n    token: ${token}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: eso\ncurrent-context: c\n`,
  );
  const lines: string[] = [];
  const child: ChildProcess = spawn(bin, [`--metrics-addr=127.0.0.1:${await freePort()}`, "--loglevel=debug"], {
    env: { PATH: process.env.PATH ?? "", HOME: dir, KUBECONFIG: kubeconfig },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (c: Buffer) => {
    lines.push(c.toString());
    if (lines.length > 4000) lines.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const log = () => lines.join("");
  // Ready when its ExternalSecret controller's workers run.
  const end = Date.now() + 120_000;
  while (!/Starting workers.*"controller":\s*"externalsecret"|"controller":\s*"externalsecret".*Starting workers/.test(log())) {
    if (child.exitCode !== null) throw new Error(`external-secrets exited (${child.exitCode}): ${log().slice(-3000)}`);
    if (Date.now() > end) {
      child.kill("SIGKILL");
      throw new Error(`external-secrets not ready within 120 s: ${log().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}
