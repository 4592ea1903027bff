// Drives one real cluster through the states the alerts are about and scrapes
// every target at each: three OpenBao servers (Raft, transit auto-unseal as
// the KMS stand-in, telemetry without a token as vault.unauthenticatedMetrics
// ships it) with three real sidecars (agent/dist/main.js), then
//   stuck     pod 0's loop held inside its first init step (the test pause hook) while its /metrics answers
//   healthy   converged: one active, two standby, the verifier without findings, certificates for 300 days
//   diagnosis pod 2's sidecar restarted while Secret Manager refuses the init response
//   finding   a secrets engine mounted by hand that no stack declares
//   certificate  the servers' certificate issued again for 10 days (then for 300 again)
//   sealed    the KMS stand-in gone, then the active sealed through the API with a root token: it cannot
//             unseal itself again (OpenBao with auto-unseal and retry_join does within ~2 s when it reaches
//             its key), and another server becomes active
//   lost      the new active's process killed: one standby left, no quorum, no leader
// and, beside the cluster, the real snapshot command's log lines, and a single
// server whose only audit device fails (see recordAuditFailure).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { declaredAccess } from "../../config/declared-access";
import type { EnvironmentConfig } from "../../config/schema";
import { createWorld, type World } from "../../agent/__tests__/support/fixture";
import { waitForConverged } from "../../agent/__tests__/support/converged";
import { Sidecar, sidecarEndpoint } from "../../agent/__tests__/support/sidecar";
import { generateRoot } from "../../agent/src/vault/generate-root";
import { VaultClient } from "../../agent/src/vault/client";
import { waitForActive } from "../support/raft-cluster";
import { vaultRequest, waitFor } from "../support/vault-http";
import { reissueCa, reissueServerCertificate, reloadCertificates } from "./certificates";
import { podsIn, record, samplesOf, type Target } from "./recorder";
import { runSnapshots, type SnapshotRuns } from "./snapshot-lines";
import type { Recording } from "./timeline";

export interface ClusterRecordings {
  readonly stuck: [Recording, Recording];
  readonly healthy: Recording;
  readonly diagnosis: Recording;
  readonly finding: Recording;
  readonly certificate: Recording;
  readonly sealed: Recording;
  /** Scraped right after the seal: the sealed server's telemetry still holds its leadership_lost summary. */
  readonly justSealed: Recording;
  readonly leaderLost: Recording;
  readonly snapshotRuns: SnapshotRuns;
  /** Milliseconds from the start to the end of each step. */
  readonly steps: Record<string, number>;
  /** Targets that gave no metrics, by state (a sealed or killed server's telemetry). */
  readonly unanswered: Record<string, readonly string[]>;
}

/** The diagnosis the sidecar reports when the init response cannot be read (agent/src/sidecar/diagnoses.ts). */
export const DIAGNOSIS = "init-response-unreadable";
const PAUSE_MS = 4000;
const CERT = "vault_gke_sidecar_certificate_expiry_timestamp_seconds";
const DAY_SEC = 86_400;
/** The servers' certificate lifetime in the healthy state, and in the certificate state (VaultCertificateExpiring: 14 days). */
export const CERTIFICATE_DAYS = { healthy: 300, expiring: 10 } as const;

/** Every pod's sidecar reports the served certificate (and with `ca`, its CA) expiring in about `days`. */
function certificatesIn(r: Recording, pods: readonly string[], days: number, ca = false): boolean {
  const left = (pod: string, which: string) => (samplesOf(r, CERT, pod).find((s) => s.labels.certificate === which)?.value ?? 0) - r.atSec;
  return pods.every((pod) => Math.abs(left(pod, "server") - days * DAY_SEC) < DAY_SEC && (!ca || Math.abs(left(pod, "ca") - days * DAY_SEC) < DAY_SEC));
}

/**
 * The process of the transit KMS stand-in createWorld started (a dev OpenBao, a child of this process), found by
 * the listen address in its arguments.
 */
function kmsPid(sealAddress: string): number {
  const listen = `-dev-listen-address=${new URL(sealAddress).host}`;
  for (const entry of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const parent = Number(readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1].split(" ")[1]);
      if (parent === process.pid && args.includes(listen)) return Number(entry);
    } catch {
      // the process ended while it was read
    }
  }
  throw new Error(`no KMS stand-in listening on ${sealAddress} among this process's children`);
}

export class RecordedWorld {
  world!: World;
  readonly sidecars: Sidecar[] = [];
  private root?: string;

  constructor(
    private readonly env: EnvironmentConfig,
    private readonly where: { cluster: string; namespace: string },
    /** The snapshot job's SNAPSHOT_MAX_AGE_SEC (the alert's window, as the vault stack sets it). */
    private readonly snapshotMaxAgeSec: number,
  ) {}

  private sidecarEnv(i: number): Record<string, string> {
    return this.world.sidecarEnv(i, {
      // The verifier every second instead of every 5 minutes, so a finding shows within the test.
      VERIFY_INTERVAL_SEC: "1",
      DECLARED_ACCESS_FILE: join(this.world.dir, "declared-without-shared-stack.json"),
      // The served certificate read every second instead of every minute, so a reissued one shows at once.
      CERTIFICATE_CHECK_SEC: "1",
      // The pause hook holds pod 0's loop for a few seconds once its intent to initialize is recorded (the
      // stuck-loop state). Before init: held after it, the other pods' sidecars would see an initialized vault
      // without stored keys and wait for pod 0 to store them, which is not the state under test.
      ...(i === 0 ? { VAULT_GKE_TEST_PAUSE_AT: "after-intent", VAULT_GKE_TEST_PAUSE_MS: String(PAUSE_MS) } : {}),
    });
  }

  private async targets(): Promise<Target[]> {
    const sidecars = await Promise.all(
      this.sidecars.map(async (s, i) => ({ kind: "sidecar" as const, pod: this.world.cluster.nodes[i].name, url: await sidecarEndpoint(s) })),
    );
    const vaults = this.world.cluster.servers.map((s, i) => ({ kind: "vault" as const, pod: this.world.cluster.nodes[i].name, addr: s.addr, ca: s.ca }));
    return [...sidecars, ...vaults];
  }

  private async record(state: string, unanswered: Record<string, readonly string[]>): Promise<Recording> {
    const scraped = await record(state, await this.targets(), this.where);
    unanswered[state] = scraped.unanswered;
    return scraped.recording;
  }

  /** Scrapes until `ready` holds for a recording (the sidecars report state changes on their next loop turn). */
  private async recordWhen(
    state: string,
    unanswered: Record<string, readonly string[]>,
    ready: (r: Recording) => boolean,
    timeoutMs = 60_000,
  ): Promise<Recording> {
    let last: Recording | undefined;
    try {
      return await waitFor(
        `the sidecars' metrics to show the ${state} state`,
        async () => {
          last = await this.record(state, unanswered);
          return ready(last) ? last : undefined;
        },
        timeoutMs,
        200,
      );
    } catch (error) {
      const states = last
        ? samplesOf(last, "vault_gke_sidecar_vault_state")
            .filter((s) => s.value === 1)
            .map((s) => `${s.labels.pod} ${s.labels.state}`)
        : [];
      throw new Error(`${(error as Error).message}; the sidecars said: ${states.join(", ")}`);
    }
  }

  private async call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const active = await waitForActive(this.world.cluster.servers, 30_000);
    const res = await vaultRequest(active.addr, active.ca, method, `/v1/${path}`, { token: this.root, body });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** A root token from the stored recovery keys and the generate-root token (OpenBao's authenticated generate-root), as an operator makes one. */
  private async rootToken(): Promise<string> {
    const init = JSON.parse(String(this.world.store.latest(this.world.ids.initResponse))) as { response: { recovery_keys_base64: string[] } };
    const record = JSON.parse(String(this.world.store.latest(this.world.ids.rootToken))) as { generateRootToken?: string };
    const active = await waitForActive(this.world.cluster.servers, 30_000);
    const client = new VaultClient({ address: active.addr, ca: active.ca });
    try {
      const keys = init.response.recovery_keys_base64;
      return await generateRoot(client, keys, keys.length, record.generateRootToken);
    } finally {
      client.close();
    }
  }

  async run(): Promise<ClusterRecordings> {
    const unanswered: Record<string, readonly string[]> = {};
    const started = Date.now();
    const steps: Record<string, number> = {};
    const done = (step: string) => (steps[step] = Date.now() - started);
    this.world = await createWorld({ replicas: 3, seal: "auto", env: this.env });
    done("servers started");
    // The shared stack is not applied here: the sidecars' declaration leaves out its auth methods (the shipped file
    // declares them, and their absence would be a finding in every state).
    const declared = declaredAccess(this.env);
    writeFileSync(
      join(this.world.dir, "declared-without-shared-stack.json"),
      JSON.stringify({ ...declared, authMounts: declared.authMounts.filter((m) => m.path === "token") }),
    );
    for (const i of [0, 1, 2]) this.sidecars.push(new Sidecar(this.sidecarEnv(i)));

    await this.sidecars[0].waitForLog("test hook: pausing at this step", 60_000);
    const stuck1 = await this.record("stuck", unanswered);
    await new Promise((r) => setTimeout(r, 2000));
    const stuck2 = await this.record("stuck", unanswered);
    done("stuck");

    await waitForConverged(this.world, 120_000);
    const pods = this.world.cluster.nodes.map((n) => n.name);
    const tlsDir = dirname(this.world.cluster.pki.certFile);
    const caDir = dirname(this.world.cluster.pki.caCertFile);
    reissueCa(caDir, CERTIFICATE_DAYS.healthy);
    reissueServerCertificate(caDir, tlsDir, CERTIFICATE_DAYS.healthy);
    reloadCertificates(this.world.cluster.servers);
    const healthy = await this.recordWhen("healthy", unanswered, (r) => {
      const active = podsIn(r, "active");
      return (
        active.length === 1 &&
        podsIn(r, "standby").length === 2 &&
        certificatesIn(r, pods, CERTIFICATE_DAYS.healthy, true) &&
        samplesOf(r, "vault_gke_sidecar_diagnosis").every((s) => s.value === 0) &&
        samplesOf(r, "vault_gke_verifier_last_run_timestamp_seconds", active[0]).length === 1 &&
        samplesOf(r, "vault_gke_sidecar_token_expiry_timestamp_seconds", active[0]).some((s) => s.labels.token === "plan")
      );
    });
    done("healthy");
    this.root = await this.rootToken();

    // Diagnosis: pod 2's sidecar restarted while the init response is refused (403): a standby that cannot read the keys.
    this.world.store.deny(this.world.ids.initResponse, true);
    await this.sidecars[2].stop();
    this.sidecars[2] = new Sidecar(this.sidecarEnv(2));
    await this.sidecars[2].waitForLine((l) => l.diagnosis === DIAGNOSIS, `the ${DIAGNOSIS} diagnosis`, 60_000);
    const diagnosis = await this.recordWhen("diagnosis", unanswered, (r) => samplesOf(r, "vault_gke_sidecar_diagnosis").some((s) => s.value === 1));
    this.world.store.deny(this.world.ids.initResponse, false);
    await this.sidecars[2].waitForLog("diagnosis resolved", 60_000);
    done("diagnosis");

    // A verifier finding: a secrets engine no stack declares.
    await this.call("POST", "sys/mounts/undeclared-kv", { type: "kv" });
    const finding = await this.recordWhen("finding", unanswered, (r) => samplesOf(r, "vault_gke_verifier_findings").some((s) => s.value > 0));
    await this.call("DELETE", "sys/mounts/undeclared-kv");
    done("finding");

    // The certificate state: every server presents a certificate that expires in 10 days; then 300 again.
    reissueServerCertificate(caDir, tlsDir, CERTIFICATE_DAYS.expiring);
    reloadCertificates(this.world.cluster.servers);
    const certificate = await this.recordWhen("certificate", unanswered, (r) => certificatesIn(r, pods, CERTIFICATE_DAYS.expiring));
    reissueServerCertificate(caDir, tlsDir, CERTIFICATE_DAYS.healthy);
    reloadCertificates(this.world.cluster.servers);
    await this.recordWhen("certificate renewed", unanswered, (r) => certificatesIn(r, pods, CERTIFICATE_DAYS.healthy));
    done("certificate");

    const active = await waitForActive(this.world.cluster.servers, 30_000);
    const snapshotRuns = await runSnapshots(
      join(this.world.dir, "snapshot"),
      { addr: active.addr, caCertFile: this.world.cluster.pki.caCertFile },
      this.env.name,
      this.env.vault.namespace,
      this.snapshotMaxAgeSec,
      (method, path, body) => this.call(method, path, body),
    );
    await this.recordWhen("healthy again", unanswered, (r) => samplesOf(r, "vault_gke_verifier_findings").every((s) => s.value === 0));
    done("snapshot");

    // Autopilot makes the joined servers voters once they have been healthy for a while (server_stabilization_time);
    // before that, losing the active leaves no server that may stand for election.
    await waitFor(
      "three Raft voters",
      async () => {
        const servers = ((await this.call("GET", "sys/storage/raft/configuration")).data as { config: { servers: { voter: boolean }[] } }).config.servers;
        return servers.filter((x) => x.voter).length === 3 ? true : undefined;
      },
      60_000,
      500,
    );
    done("three voters");

    // Sealed: the KMS stand-in killed, as when the unseal key cannot be reached; then the active sealed through the
    // API (a standby would forward the request to it). It stays sealed; another server takes over. (A KMS that does
    // not answer at all, SIGSTOP, holds the takeover for 60 s: the new active's "post-unseal upgrade seal keys"
    // waits for its deadline.)
    const seal = this.world.cluster.configs[0].props.seal;
    if (seal.type !== "transit") throw new Error(`the world's seal is ${seal.type}, not the transit KMS stand-in`);
    process.kill(kmsPid(seal.address), "SIGKILL");
    const wasActive = podsIn(healthy, "active")[0];
    await this.call("PUT", "sys/seal");
    const justSealed = await this.record("just sealed", unanswered);
    const sealed = await this.recordWhen("sealed", unanswered, (r) => {
      const now = podsIn(r, "active");
      return (
        podsIn(r, "sealed").length === 1 &&
        now.length === 1 &&
        now[0] !== wasActive &&
        samplesOf(r, "vault_gke_sidecar_token_expiry_timestamp_seconds", now[0]).some((s) => s.labels.token === "plan")
      );
    });
    done("sealed");

    // Leader lost: the new active's process killed; the sealed server cannot vote, one standby is no quorum.
    const newActive = podsIn(sealed, "active")[0];
    await this.world.cluster.servers[this.world.cluster.nodes.findIndex((n) => n.name === newActive)].kill();
    const leaderLost = await this.recordWhen(
      "leader lost",
      unanswered,
      (r) => podsIn(r, "active").length === 0 && podsIn(r, "unreachable").includes(newActive),
    );
    done("leader lost");
    return { stuck: [stuck1, stuck2], healthy, diagnosis, finding, certificate, sealed, justSealed, leaderLost, snapshotRuns, steps, unanswered };
  }

  async teardown(): Promise<void> {
    await Promise.all(this.sidecars.map((s) => s.stop("SIGKILL")));
    await this.world?.teardown();
  }
}
