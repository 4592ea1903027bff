// The whole path of a pull request, for real: everything the end-to-end test
// starts, wired the way production wires it.
//   - Atlantis v0.47.1 (built by `npm run tools`) with deploy/atlantis/repos.yaml,
//     the Dockerfile's ATLANTIS_* settings and the project's hook and step
//     scripts (only /opt/vault-gke/bin mapped to deploy/atlantis/bin, and the
//     Terraform version to the machine's);
//   - a GitHub stand-in over HTTPS (REST, the one GraphQL mutation Atlantis uses,
//     git smart HTTP through `git http-backend`) holding a repository made of
//     this checkout with a test environment;
//   - Terraform 1.11 with the vendored providers from .tools/tf-mirror, state in
//     the real gcs backend pointed at fake-gcs-server (TF_CLI_ARGS_init adds the
//     endpoint: the one deviation from production's init);
//   - OpenBao with the shipped configuration and the built sidecar beside it
//     (so policies and tokens are the sidecar's own), its Secret Manager and
//     metadata stand-ins;
//   - a real kube-apiserver playing the registered tenant cluster (the runner's
//     Google access token is a static admin token there);
//   - an OIDC issuer stand-in for auth/runner (delivery.runnerIssuer) and a
//     gcloud stand-in whose ID tokens it signs, as gcloud mints them.
// The shared stack is applied the way an admin applies it (Terraform with a
// root token from generate-root: OpenBao has no GCP auth).
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse, stringify } from "yaml";
import { parseEnvironment } from "../../config/load";
import { secretIds } from "../../contract/secret-ids";
import type { EnvironmentConfig } from "../../config/schema";
import { generateRoot, VaultClient } from "@vault-gke/agent/vault";
import { createWorld, type World } from "../../agent/__tests__/support/fixture";
import { Sidecar, stopAllSidecars } from "../../agent/__tests__/support/sidecar";
import { ROOT } from "../helpers";
import { startFakeGcs, type FakeGcs } from "../support/fake-gcs";
import { GcloudStandIn } from "../support/gcloud-stand-in";
import { GitHubStandIn } from "../support/github-stand-in";
import { GoogleIdTokenIssuer } from "../support/google-id-token";
import { startKubeControlPlane, type KubeControlPlane } from "../support/kube-control-plane";
import { startOidcIssuer, type OidcIssuer } from "../support/oidc-issuer";
import { POD_SERVICE_ACCOUNT_DIR } from "../support/bao";
import { freePort } from "../support/ports";
import { writeMirrorCliConfig } from "../support/terraform-mirror";
import { vaultRequest } from "../support/vault-http";

export const OWNER = "acme";
export const REPO = "vault-gke";
const ATLANTIS = join(ROOT, ".tools", "bin", "atlantis");
const ATLANTIS_USER = "atlantis-bot";
const ATLANTIS_TOKEN = "ghp_AtlantisStandInToken";
const HOOK_TOKEN = "ghs_HookReadOnlyStandInToken";
export const ENV_NAME = "example";

export interface E2eWorld {
  readonly work: string;
  readonly env: EnvironmentConfig;
  readonly github: GitHubStandIn;
  readonly gcloud: GcloudStandIn;
  readonly vault: World;
  readonly kube: KubeControlPlane;
  readonly atlantisUrl: string;
  /** The repository's work tree (main checked out): tests branch and commit here. */
  readonly repo: string;
  /** The read-only plan token the sidecar stored. */
  planToken(): string;
  /** GET a Vault path with the plan token. */
  read(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
  git(...args: string[]): string;
  /** Regenerates atlantis.yaml in the work tree (as a contributor runs `npm run atlantis`). */
  regenerateAtlantisYaml(): void;
  /** An admin's `cdktf deploy` (or destroy) of a stack of the work tree's current checkout (Terraform, root token from generate-root). */
  adminApply(stack: string, action?: "apply" | "destroy"): Promise<void>;
  /** CI's plan job's removal guard, on the work tree's current checkout against `base`. */
  checkRemovals(base: string): Promise<{ status: number; output: string }>;
  /** The clone Atlantis keeps for a pull request. */
  atlantisClone(pull: number): string;
  teardown(): Promise<void>;
}

/** Runs a command and waits without blocking: the stand-ins in this process must keep answering meanwhile. */
function runAsync(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${cmd} ${args.join(" ")} failed: ${stderr.slice(-3000)}${stdout.slice(-2000)}`)) : resolve(stdout),
    );
  });
}

/** Runs a command that talks to no stand-in of this process. */
const run = (cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => {
  const res = spawnSync(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${res.status}): ${res.stderr.slice(-3000)}${res.stdout.slice(-2000)}`);
  return res.stdout;
};

/** The environment the test repository ships: the example, pointed at this machine's servers. */
function testEnvironment(vaultPort: number, kube: KubeControlPlane, issuer: OidcIssuer): Record<string, unknown> {
  const data = parse(readFileSync(join(ROOT, "environments", "example.yaml"), "utf8")) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  data.vault = { ...data.vault, distribution: "openbao", replicas: 1, seal: "shamir" };
  delete data.vault.image;
  data.tenancy.vaultAddress = `https://127.0.0.1:${vaultPort}`;
  data.tenancy.clusters = [{ ...data.tenancy.clusters[0], apiServerUrl: kube.url, caCertificate: kube.caPem }];
  data.delivery.runnerIssuer = issuer.url;
  data.gcpAuth = { adminServiceAccounts: [], breakGlassServiceAccounts: [] };
  return data;
}

/** The Dockerfile's ATLANTIS_* settings, as the image starts the server. */
function imageSettings(): Record<string, string> {
  const text = readFileSync(join(ROOT, "deploy", "atlantis", "Dockerfile"), "utf8");
  return Object.fromEntries([...text.matchAll(/\b(ATLANTIS_[A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]]));
}

function waitHttp(url: string, deadlineMs: number, child: ChildProcess, log: () => string): Promise<void> {
  const end = Date.now() + deadlineMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`atlantis exited (${child.exitCode}): ${log().slice(-3000)}`));
      const req = request(url, { timeout: 2000 }, (res) => {
        res.resume();
        if (res.statusCode === 200) resolve();
        else retry();
      });
      req.on("error", retry);
      req.end();
    };
    const retry = () => (Date.now() > end ? reject(new Error(`atlantis not ready within ${deadlineMs} ms: ${log().slice(-3000)}`)) : setTimeout(attempt, 200));
    attempt();
  });
}

export interface E2eOptions {
  /** Writes tenant files into the repository's tenants/ folder before the first commit of main. */
  readonly seedTenants?: (tenantsDir: string) => void;
}

export async function startE2eWorld(options: E2eOptions = {}): Promise<E2eWorld> {
  if (!existsSync(ATLANTIS)) throw new Error(`${ATLANTIS} is missing: run \`npm run tools\` first`);
  const work = mkdtempSync(join(tmpdir(), "vault-gke-e2e-"));
  const stops: (() => Promise<void> | void)[] = [];
  const teardown = async () => {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
    spawnSync("chmod", ["-R", "u+w", work]);
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const gcs: FakeGcs = await startFakeGcs();
    stops.push(() => gcs.stop());
    const kube = await startKubeControlPlane(join(work, "kube"));
    stops.push(() => kube.stop());
    const signer = new GoogleIdTokenIssuer();
    const issuer = await startOidcIssuer(join(work, "oidc"), signer.privateKey);
    stops.push(() => issuer.stop());
    const github = new GitHubStandIn({ owner: OWNER, repo: REPO, atlantisUser: ATLANTIS_USER, atlantisToken: ATLANTIS_TOKEN, hookToken: HOOK_TOKEN });
    await github.start();
    stops.push(() => github.stop());
    const caBundle = join(work, "ca-bundle.pem");
    writeFileSync(
      caBundle,
      [github.caFile, issuer.caFile, "/etc/ssl/certs/ca-certificates.crt"]
        .filter(existsSync)
        .map((f) => readFileSync(f, "utf8"))
        .join("\n"),
    );

    // Vault: the shipped configuration and the sidecar, at an address the environment names.
    const vaultPort = await freePort();
    const envData = testEnvironment(vaultPort, kube, issuer);
    const env = parseEnvironment(envData, "environments/example.yaml");
    // Vault's pod: its service account files, from the tenant cluster's API server (the in-cluster backend reads them).
    const podFiles = join(work, "pod-service-account");
    mkdirSync(podFiles);
    await kube.api("POST", "/api/v1/namespaces", { metadata: { name: env.vault.namespace } });
    await kube.api("POST", `/api/v1/namespaces/${env.vault.namespace}/serviceaccounts`, { metadata: { name: "vault" } });
    const podToken = await kube.api("POST", `/api/v1/namespaces/${env.vault.namespace}/serviceaccounts/vault/token`, { spec: { expirationSeconds: 7200 } });
    writeFileSync(join(podFiles, "token"), String((podToken.body.status as { token: string }).token));
    writeFileSync(join(podFiles, "ca.crt"), kube.caPem);
    writeFileSync(join(podFiles, "namespace"), env.vault.namespace);
    const serverEnv = { SSL_CERT_FILE: caBundle, [POD_SERVICE_ACCOUNT_DIR]: podFiles };
    const vault = await createWorld({ replicas: 1, seal: "shamir", env, serverEnv, apiPorts: [vaultPort] });
    stops.push(() => vault.teardown());
    stops.push(() => stopAllSidecars());
    const sidecar = new Sidecar(vault.sidecarEnv(0));
    await sidecar.waitForLog("plan token created and stored", 180_000);
    const ids = secretIds(env.name);
    const planToken = () => String((JSON.parse(String(vault.store.latest(ids.planToken))) as { token: string }).token);

    // gcloud: the plan token the sidecar stored, the vault stack's state in the state bucket, ID tokens.
    const gcloud = new GcloudStandIn();
    stops.push(() => gcloud.remove());
    gcloud.secret(env.project, ids.planToken, String(vault.store.latest(ids.planToken)));
    gcloud.storageEndpoint(gcs.url);
    gcloud.signIdTokens(signer.privateKey, `atlantis-pod@${env.project}.iam.gserviceaccount.com`, 3600, issuer.url);
    await gcs.createBucket(env.backend.bucket);
    const vaultState = {
      version: 4,
      terraform_version: "1.11.4",
      serial: 1,
      lineage: "e2e",
      outputs: { vault_ca_certificate: { value: readFileSync(vault.cluster.pki.caCertFile, "utf8"), type: "string" } },
      resources: [],
    };
    await gcs.putObject(env.backend.bucket, `${env.backend.prefix}/${env.name}-vault/default.tfstate`, Buffer.from(JSON.stringify(vaultState)));

    // The repository: this checkout's tracked files, the test environment, no tenant yet.
    const repo = join(work, "repo");
    mkdirSync(repo);
    for (const file of execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean)) {
      if (file.startsWith("tenants/") && file.endsWith(".yaml")) continue;
      if (!existsSync(join(ROOT, file))) continue;
      mkdirSync(dirname(join(repo, file)), { recursive: true });
      cpSync(join(ROOT, file), join(repo, file));
    }
    writeFileSync(join(repo, "environments", "example.yaml"), stringify(envData));
    options.seedTenants?.(join(repo, "tenants"));
    symlinkSync(join(ROOT, "node_modules"), join(repo, "node_modules"));
    const git = (...args: string[]) => run("git", ["-c", "user.email=dev@acme.test", "-c", "user.name=dev", ...args], { cwd: repo }).trim();
    const regenerateAtlantisYaml = () => void run("npm", ["run", "--silent", "atlantis"], { cwd: repo });
    git("init", "-q", "-b", "main");
    regenerateAtlantisYaml();
    git("add", "-A");
    git("commit", "-q", "-m", "vault-gke with the e2e environment");
    github.initFrom(repo, "main");

    // Terraform as the runners and the admin run it.
    const tfrc = writeMirrorCliConfig(join(work, "terraform.rc"));
    const terraformEnv = {
      TF_CLI_CONFIG_FILE: tfrc,
      TF_CLI_ARGS_init: `-backend-config=storage_custom_endpoint=${gcs.url}/storage/v1/`,
      GOOGLE_OAUTH_ACCESS_TOKEN: kube.adminToken,
      CHECKPOINT_DISABLE: "1",
    };

    const adminApply = async (stack: string, action: "apply" | "destroy" = "apply") => {
      const client = new VaultClient({ address: vault.cluster.servers[0].addr, ca: vault.cluster.servers[0].ca });
      const init = JSON.parse(String(vault.store.latest(ids.initResponse))) as { response: { keys_base64: string[] } };
      const record = JSON.parse(String(vault.store.latest(ids.rootToken))) as { generateRootToken: string };
      const root = await generateRoot(client, init.response.keys_base64, env.vault.keyThreshold, record.generateRootToken);
      try {
        const out = join(work, "admin-synth");
        rmSync(out, { recursive: true, force: true });
        run("npm", ["run", "--silent", "synth"], { cwd: repo, env: { ...process.env, CDKTF_OUTDIR: out } });
        const dir = join(out, "stacks", stack);
        const env2 = { ...process.env, ...terraformEnv, VAULT_TOKEN: root, VAULT_CACERT: vault.cluster.pki.caCertFile };
        await runAsync("terraform", ["init", "-input=false", "-no-color"], { cwd: dir, env: env2 });
        await runAsync("terraform", [action, "-input=false", "-no-color", "-auto-approve"], { cwd: dir, env: env2 });
      } finally {
        await client.revokeSelf(root).catch(() => undefined);
        client.close();
      }
    };

    // Packages: the cache entry of this lock file is this checkout's node_modules (npm ci itself is
    // tested by the hook's test and measured by the bench; here it would add a minute per run).
    const cache = join(work, "cache");
    const workspaces = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { workspaces?: string[] }).workspaces ?? [];
    const key = createHash("sha256")
      .update(Buffer.concat(["package.json", "package-lock.json", ...workspaces.map((w) => `${w}/package.json`)].map((f) => readFileSync(join(ROOT, f)))))
      .digest("hex")
      .slice(0, 32);
    mkdirSync(join(cache, "node_modules", key), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(cache, "node_modules", key, "node_modules"));

    // Atlantis, as the image runs it.
    const serverConfig = join(work, "repos.yaml");
    writeFileSync(
      serverConfig,
      readFileSync(join(ROOT, "deploy", "atlantis", "repos.yaml"), "utf8").replaceAll("/opt/vault-gke/bin/", `${join(ROOT, "deploy", "atlantis", "bin")}/`),
    );
    const port = await freePort();
    const atlantisUrl = `http://127.0.0.1:${port}`;
    const terraformVersion = /Terraform v(\S+)/.exec(run("terraform", ["version"]))?.[1] ?? "";
    const home = join(work, "atlantis-home");
    mkdirSync(home);
    const atlantisEnv: NodeJS.ProcessEnv = {
      PATH: gcloud.path(),
      HOME: home,
      LANG: "C.UTF-8",
      ...imageSettings(),
      ATLANTIS_DEFAULT_TF_VERSION: terraformVersion,
      ATLANTIS_REPO_CONFIG: serverConfig,
      SSL_CERT_FILE: caBundle,
      GIT_SSL_CAINFO: caBundle,
      CURL_CA_BUNDLE: caBundle,
      VAULT_GKE_GITHUB_TOKEN: HOOK_TOKEN,
      VAULT_GKE_GITHUB_API_URL: `${github.url}/api/v3`,
      VAULT_GKE_APPLY_SERVICE_ACCOUNT: env.delivery.applyServiceAccounts[0],
      VAULT_GKE_CACHE_DIR: cache,
      ...terraformEnv,
    };
    const atlantisLog: string[] = [];
    const atlantis = spawn(
      ATLANTIS,
      [
        "server",
        `--port=${port}`,
        `--atlantis-url=${atlantisUrl}`,
        `--gh-hostname=${github.host}`,
        `--gh-user=${ATLANTIS_USER}`,
        `--gh-token=${ATLANTIS_TOKEN}`,
        `--repo-allowlist=127.0.0.1/${OWNER}/${REPO}`,
        `--data-dir=${join(work, "atlantis-data")}`,
      ],
      { env: atlantisEnv, stdio: ["ignore", "pipe", "pipe"] },
    );
    const keep = (c: Buffer) => {
      atlantisLog.push(c.toString());
      if (atlantisLog.length > 2000) atlantisLog.shift();
    };
    atlantis.stdout?.on("data", keep);
    atlantis.stderr?.on("data", keep);
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          if (atlantis.exitCode !== null) return resolve();
          atlantis.once("exit", () => resolve());
          atlantis.kill("SIGTERM");
          setTimeout(() => atlantis.kill("SIGKILL"), 10_000).unref();
        }),
    );
    await waitHttp(`${atlantisUrl}/healthz`, 60_000, atlantis, () => atlantisLog.join(""));

    const read = (path: string) => vaultRequest(vault.cluster.servers[0].addr, vault.cluster.servers[0].ca, "GET", `/v1/${path}`, { token: planToken() });
    const checkRemovals = (base: string) =>
      new Promise<{ status: number; output: string }>((resolve) => {
        execFile(
          "npm",
          ["run", "--silent", "check-removals", "--", "--base", base],
          { cwd: repo, env: { ...process.env, STORAGE_EMULATOR_HOST: gcs.url }, encoding: "utf8" },
          (error, stdout, stderr) => resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
        );
      });
    const atlantisClone = (pull: number) => join(work, "atlantis-data", "repos", OWNER, REPO, String(pull), "default");
    return {
      work,
      env,
      github,
      gcloud,
      vault,
      kube,
      atlantisUrl,
      repo,
      planToken,
      read,
      git,
      regenerateAtlantisYaml,
      adminApply,
      checkRemovals,
      atlantisClone,
      teardown,
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}
