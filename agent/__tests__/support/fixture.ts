// Fresh, isolated worlds for sidecar tests: a Secret Manager stand-in with the
// platform stack's empty secrets, OpenBao servers started from the server
// configuration the vault stack ships (see __tests__/support/raft-cluster.ts),
// and the policies folder exactly as the vault stack's ConfigMap ships it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { declaredAccess } from "../../../config/declared-access";
import { secretIds } from "../../../contract/secret-ids";
import { environmentPolicies } from "../../../policies";
import { DECLARED_ACCESS_FILE } from "../../../constructs/vault-stateful-set";
import { DISTRIBUTION, serverEnvVar, startDevServer, type BaoServer } from "../../../__tests__/support/bao";
import { startRaftCluster, type RaftCluster } from "../../../__tests__/support/raft-cluster";
import { vaultRequest } from "../../../__tests__/support/vault-http";
import { exampleEnv } from "../../../__tests__/helpers";
import type { SealConfig } from "../../../constructs/vault-server-config";
import type { EnvironmentConfig } from "../../../config/schema";
import { bootstrapEnvironment, vaultServerConfigProps } from "../../../stacks/vault-server-settings";
import { SecretManagerStandIn } from "./secret-manager-stand-in";

export interface World {
  readonly dir: string;
  /** The policies and declared access, as the ConfigMap ships them. */
  readonly policyDir: string;
  readonly store: SecretManagerStandIn;
  readonly cluster: RaftCluster;
  readonly ids: ReturnType<typeof secretIds>;
  /** The sidecar environment the vault stack ships for this pod, pointed at this world. */
  sidecarEnv(podIndex: number, extra?: Record<string, string>): Record<string, string>;
  teardown(): Promise<void>;
}

export interface WorldOptions {
  readonly replicas: 1 | 3;
  readonly seal: "shamir" | "auto";
  /** The plan token period in seconds. @default 3600 */
  readonly periodSec?: number;
  /**
   * Ship the HashiCorp Vault flavour (no audit stanza; the sidecar enables the
   * audit device through the API). OpenBao refuses that unless its
   * unsafe_allow_api_audit_creation switch is on, which this test world adds.
   * @default the distribution the servers run (support/bao.ts DISTRIBUTION)
   */
  readonly distribution?: "openbao" | "vault";
  /** The environment to ship (the options above then only choose the seal's stand-in). @default the example, with the options above */
  readonly env?: EnvironmentConfig;
  /** More environment variables for the servers (for example SSL_CERT_FILE). */
  readonly serverEnv?: Record<string, string>;
  /** The servers' API ports, chosen beforehand (when `env` names the address). */
  readonly apiPorts?: readonly number[];
  /** How each server runs (raft-cluster.ts podCommand: under the container's command). @default the binary itself */
  readonly launcher?: Parameters<typeof startRaftCluster>[8];
}

/** A transit secrets engine on a dev OpenBao server: the stand-in for Cloud KMS in auto-unseal tests. */
export async function startTransitKms(dir: string): Promise<{ server: BaoServer; seal: SealConfig; token: string }> {
  const { server, rootToken } = await startDevServer(dir, "kms");
  const caFile = join(dir, "vault-ca.pem");
  const call = (method: string, path: string, body?: unknown) => vaultRequest(server.addr, server.ca, method, path, { token: rootToken, body });
  await call("POST", "/v1/sys/mounts/transit", { type: "transit" });
  await call("POST", "/v1/transit/keys/autounseal", {});
  await call("PUT", "/v1/sys/policies/acl/autounseal", {
    policy: 'path "transit/encrypt/autounseal" { capabilities = ["update"] }\npath "transit/decrypt/autounseal" { capabilities = ["update"] }\n',
  });
  const created = await call("POST", "/v1/auth/token/create-orphan", { policies: ["autounseal"], period: "24h" });
  const token = String((created.body.auth as { client_token: string }).client_token);
  return { server, token, seal: { type: "transit", address: server.addr, keyName: "autounseal", mountPath: "transit/", tlsCaCert: caFile } };
}

export async function createWorld(options: WorldOptions): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), "vault-gke-sidecar-"));
  // By default the world ships the flavour of the distribution its servers run.
  const distribution = options.distribution ?? DISTRIBUTION;
  const env =
    options.env ??
    exampleEnv({
      vault: { distribution, replicas: options.replicas, seal: options.seal === "shamir" ? "shamir" : "gcpckms" },
      bootstrap: { planTokenPeriod: `${options.periodSec ?? 3600}s` },
    });
  const ids = secretIds(env.name);
  const store = new SecretManagerStandIn(env.project);
  store.createSecrets(...Object.values(ids));
  const policyDir = join(dir, "policies");
  mkdirSync(policyDir);
  for (const [name, hcl] of Object.entries(environmentPolicies(env.tenancy.clusters.map((c) => c.name)))) writeFileSync(join(policyDir, `${name}.hcl`), hcl);
  writeFileSync(join(policyDir, DECLARED_ACCESS_FILE), JSON.stringify(declaredAccess(env)));
  await store.start();
  let kms: Awaited<ReturnType<typeof startTransitKms>> | undefined;
  let seal: SealConfig = { type: "shamir" };
  let serverEnv: Record<string, string> = { ...options.serverEnv };
  if (options.seal === "auto") {
    kms = await startTransitKms(join(dir, "kms"));
    seal = kms.seal;
    serverEnv = { ...serverEnv, [serverEnvVar("TOKEN")]: kms.token };
  }
  // The Vault flavour shipped onto OpenBao needs its switch for API-created audit devices; Vault itself allows them.
  const extraHcl = distribution === "vault" && DISTRIBUTION === "openbao" ? "unsafe_allow_api_audit_creation = true\n" : "";
  const cluster = await startRaftCluster(
    join(dir, "cluster"),
    vaultServerConfigProps(env),
    env.vault.namespace,
    env.vault.hostname,
    seal,
    serverEnv,
    extraHcl,
    options.apiPorts,
    options.launcher,
  );
  const shipped = bootstrapEnvironment(env);
  return {
    dir,
    policyDir,
    store,
    cluster,
    ids,
    sidecarEnv: (podIndex, extra = {}) => ({
      ...shipped,
      VAULT_ADDR: cluster.servers[podIndex].addr,
      VAULT_CACERT: cluster.pki.caCertFile,
      POD_NAME: cluster.nodes[podIndex].name,
      POLICY_DIR: policyDir,
      DECLARED_ACCESS_FILE: join(policyDir, DECLARED_ACCESS_FILE),
      HTTP_PORT: "0",
      SECRET_MANAGER_ENDPOINT: store.endpoint,
      GCE_METADATA_HOST: store.metadataHost,
      MIN_WAIT_MS: "50",
      MAX_WAIT_MS: "1000",
      STOP_GRACE_MS: "30000",
      AUDIT_FILE_PATH: join(dir, "api-audit.log"),
      ...extra,
    }),
    teardown: async () => {
      await Promise.all(cluster.servers.map((s) => s.kill()));
      await kms?.server.kill();
      await store.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
