// A real Kubernetes control plane on loopback for end-to-end tests: etcd,
// kube-apiserver and kube-controller-manager v1.35 built from the Go module
// proxy by ../shared/tools/build-kube.sh (`npm run tools` puts them in
// .tools/kube-bin). It plays a registered tenant cluster: the shared stack's
// kubernetes provider creates the token reviewer in it (the controller
// manager's token controller fills the reviewer's token secret), and Vault's
// Kubernetes auth sends TokenReviews to it. Authentication: a static token of
// a system:masters user (what the runner's Google access token is on GKE) and
// service account tokens it signs itself. No scheduler, no kubelet: no pod runs.
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { projectRoot } from "./bao";
import { makeTestPki } from "./pki";
import { freePort } from "./ports";

export const KUBE_BIN = join(projectRoot(), ".tools", "kube-bin");
/** The audience and issuer of the service account tokens this API server signs. */
export const KUBE_SA_ISSUER = "https://kubernetes.default.svc.cluster.local";

export interface KubeControlPlane {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  readonly caFile: string;
  readonly caPem: string;
  /** A bearer token of a system:masters user. */
  readonly adminToken: string;
  /** GET/POST/... as the admin; the parsed JSON body. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

function kubeRequest(
  url: string,
  ca: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolveRequest, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${url}${path}`,
      { method, ca, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json" }, timeout: 10_000 },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = { text };
          }
          resolveRequest({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on("error", reject);
    req.end(data);
  });
}

async function waitUntil(what: string, deadlineMs: number, check: () => Promise<boolean>, exited: () => string | undefined): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const died = exited();
    if (died) throw new Error(`${what}: ${died}`);
    try {
      if (await check()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`${what} not ready within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startKubeControlPlane(dir: string, deadlineMs = 120_000): Promise<KubeControlPlane> {
  for (const bin of ["etcd", "kube-apiserver", "kube-controller-manager"]) {
    if (!existsSync(join(KUBE_BIN, bin))) throw new Error(`${join(KUBE_BIN, bin)} is missing: run \`npm run tools\` first`);
  }
  mkdirSync(join(dir, "pki"), { recursive: true });
  const pki = makeTestPki(join(dir, "pki"), ["localhost", "kubernetes"]);
  const caPem = readFileSync(pki.caCertFile, "utf8");
  const sa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(join(dir, "sa.key"), sa.privateKey.export({ type: "pkcs1", format: "pem" }));
  writeFileSync(join(dir, "sa.pub"), sa.publicKey.export({ type: "spki", format: "pem" }));
  const adminToken = `admin-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  writeFileSync(join(dir, "tokens.csv"), `${adminToken},vault-gke-admin,vault-gke-admin,"system:masters"\n`);
  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
  const url = `https://127.0.0.1:${apiPort}`;
  writeFileSync(
    join(dir, "kubeconfig"),
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${url}\n    certificate-authority: ${pki.caCertFile}\n` +
      `users:\n- name: u\n  user:\n    token: ${adminToken}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\n`,
  );

  const children: { name: string; child: ChildProcess; log: string[] }[] = [];
  const start = (name: string, args: string[]) => {
    const child = spawn(join(KUBE_BIN, name), args, { stdio: ["ignore", "pipe", "pipe"] });
    const entry = { name, child, log: [] as string[] };
    const keep = (c: Buffer) => {
      entry.log.push(c.toString());
      if (entry.log.length > 200) entry.log.shift();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    children.push(entry);
    return entry;
  };
  const exitedAny = () => {
    const dead = children.find((c) => c.child.exitCode !== null || c.child.signalCode !== null);
    return dead ? `${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}): ${dead.log.join("").slice(-1500)}` : undefined;
  };
  const stop = async () => {
    for (const { child } of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const gone = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(timer);
    }
  };

  try {
    start("etcd", [
      "--name=default",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      "--log-level=warn",
    ]);
    start("kube-apiserver", [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${pki.certFile}`,
      `--tls-private-key-file=${pki.keyFile}`,
      `--cert-dir=${join(dir, "apiserver-certs")}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      `--service-account-issuer=${KUBE_SA_ISSUER}`,
      `--service-account-key-file=${join(dir, "sa.pub")}`,
      `--service-account-signing-key-file=${join(dir, "sa.key")}`,
      `--api-audiences=${KUBE_SA_ISSUER}`,
      "--service-cluster-ip-range=10.96.0.0/24",
      "--enable-admission-plugins=NamespaceLifecycle,ServiceAccount",
    ]);
    await waitUntil("kube-apiserver", deadlineMs, async () => (await kubeRequest(url, caPem, adminToken, "GET", "/readyz")).status === 200, exitedAny);
    start("kube-controller-manager", [
      `--kubeconfig=${join(dir, "kubeconfig")}`,
      `--authentication-kubeconfig=${join(dir, "kubeconfig")}`,
      `--authorization-kubeconfig=${join(dir, "kubeconfig")}`,
      "--controllers=serviceaccount-token,serviceaccount",
      `--service-account-private-key-file=${join(dir, "sa.key")}`,
      `--root-ca-file=${pki.caCertFile}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      `--secure-port=${await freePort()}`,
      `--cert-dir=${join(dir, "controller-manager-certs")}`,
    ]);
    // Ready when its service account controller has made the default namespace's service account.
    await waitUntil(
      "kube-controller-manager",
      deadlineMs,
      async () => (await kubeRequest(url, caPem, adminToken, "GET", "/api/v1/namespaces/default/serviceaccounts/default")).status === 200,
      exitedAny,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, caFile: pki.caCertFile, caPem, adminToken, api: (method, path, body) => kubeRequest(url, caPem, adminToken, method, path, body), stop };
}
