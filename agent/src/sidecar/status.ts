// What the sidecar knows about itself, for its endpoint and its metrics: the
// vault's state, the diagnosis it reports (if any), the last converge, its
// tokens' expiry, failures, and the verifier's findings. Alerts are written
// against the metrics (README: alerts).
import { Counter, Gauge, Registry } from "prom-client";
import type { Diagnosis } from "./diagnoses";
import type { Finding } from "../verify/verifier";

export interface StatusSnapshot {
  readonly pod: string;
  readonly state: string;
  readonly initialized?: boolean;
  readonly sealed?: boolean;
  readonly lastConvergedAt?: string;
  readonly diagnosis?: Diagnosis & { readonly since: string };
  readonly tokens: Readonly<Record<string, { readonly expiresAt: string }>>;
  readonly verifier?: { readonly lastRunAt: string; readonly findings: readonly Finding[] };
  /** The certificate the local Vault presents: its expiry, its CA's, and its SHA-256 fingerprint (a rotation changes it). */
  readonly certificate?: { readonly expiresAt: string; readonly caExpiresAt?: string; readonly fingerprint256: string };
}

const STATES = ["active", "standby", "perf-standby", "dr-secondary", "uninitialized", "sealed", "removed", "unreachable", "unexpected", "starting"];

export class SidecarStatus {
  readonly registry = new Registry();
  private state = "starting";
  private initialized?: boolean;
  private sealed?: boolean;
  private lastConvergedAt?: number;
  private diagnosis?: Diagnosis & { since: string };
  private readonly tokenExpiry = new Map<string, number>();
  private verifier?: { lastRunAt: number; findings: Finding[] };
  private heartbeatAt = Date.now();
  private certificate?: { expiresAt: string; caExpiresAt?: string; fingerprint256: string };

  private readonly stateGauge = new Gauge({
    name: "vault_gke_sidecar_vault_state",
    help: "1 for the state the local Vault server answers with",
    labelNames: ["state"],
    registers: [this.registry],
  });
  private readonly diagnosisGauge = new Gauge({
    name: "vault_gke_sidecar_diagnosis",
    help: "1 while the sidecar reports this diagnosis (a state a human must resolve)",
    labelNames: ["code"],
    registers: [this.registry],
  });
  private readonly convergedGauge = new Gauge({
    name: "vault_gke_sidecar_last_converged_timestamp_seconds",
    help: "When the active vault last had everything the sidecar maintains",
    registers: [this.registry],
  });
  private readonly expiryGauge = new Gauge({
    name: "vault_gke_sidecar_token_expiry_timestamp_seconds",
    help: "When each token the sidecar keeps expires unless renewed",
    labelNames: ["token"],
    registers: [this.registry],
  });
  private readonly failures = new Counter({
    name: "vault_gke_sidecar_failures_total",
    help: "Steps that failed (they are retried)",
    labelNames: ["step"],
    registers: [this.registry],
  });
  private readonly heartbeatGauge = new Gauge({
    name: "vault_gke_sidecar_heartbeat_timestamp_seconds",
    help: "Last turn of the sidecar's loop",
    registers: [this.registry],
  });
  private readonly findingsGauge = new Gauge({
    name: "vault_gke_verifier_findings",
    help: "Deviations the verifier found on its last run, by kind",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  private readonly certificateGauge = new Gauge({
    name: "vault_gke_sidecar_certificate_expiry_timestamp_seconds",
    help: "When the certificate the local Vault presents (server) and the CA that issued it (ca) expire",
    labelNames: ["certificate"],
    registers: [this.registry],
  });
  private readonly verifiedGauge = new Gauge({
    name: "vault_gke_verifier_last_run_timestamp_seconds",
    help: "When the verifier last ran to the end",
    registers: [this.registry],
  });

  constructor(readonly pod: string) {
    for (const s of STATES) this.stateGauge.set({ state: s }, s === "starting" ? 1 : 0);
    this.heartbeat();
  }

  heartbeat(): void {
    this.heartbeatAt = Date.now();
    this.heartbeatGauge.set(this.heartbeatAt / 1000);
  }

  /** Milliseconds since the loop last turned (the liveness probe's measure). */
  get sinceHeartbeatMs(): number {
    return Date.now() - this.heartbeatAt;
  }

  vault(state: string, initialized?: boolean, sealed?: boolean): void {
    this.state = state;
    this.initialized = initialized;
    this.sealed = sealed;
    for (const s of STATES) this.stateGauge.set({ state: s }, s === state ? 1 : 0);
  }

  /** Sets the reported diagnosis; true when it is new (the caller logs it once). */
  report(diagnosis: Diagnosis): boolean {
    const same = this.diagnosis && this.diagnosis.code === diagnosis.code && this.diagnosis.message === diagnosis.message;
    if (same) return false;
    if (this.diagnosis) this.diagnosisGauge.set({ code: this.diagnosis.code }, 0);
    this.diagnosis = { ...diagnosis, since: new Date().toISOString() };
    this.diagnosisGauge.set({ code: diagnosis.code }, 1);
    return true;
  }

  /** Clears the diagnosis; returns the one cleared, if any. */
  clear(): Diagnosis | undefined {
    const was = this.diagnosis;
    if (was) this.diagnosisGauge.set({ code: was.code }, 0);
    this.diagnosis = undefined;
    return was;
  }

  converged(): void {
    this.lastConvergedAt = Date.now();
    this.convergedGauge.set(this.lastConvergedAt / 1000);
  }

  tokenExpires(token: string, ttlSec: number): void {
    const at = Date.now() + ttlSec * 1000;
    this.tokenExpiry.set(token, at);
    this.expiryGauge.set({ token }, at / 1000);
  }

  /** What the local Vault's listener presents (read over a handshake). */
  certificateServed(expiresAt: Date, caExpiresAt: Date | undefined, fingerprint256: string): void {
    this.certificate = { expiresAt: expiresAt.toISOString(), caExpiresAt: caExpiresAt?.toISOString(), fingerprint256 };
    this.certificateGauge.set({ certificate: "server" }, expiresAt.getTime() / 1000);
    if (caExpiresAt) this.certificateGauge.set({ certificate: "ca" }, caExpiresAt.getTime() / 1000);
  }

  /**
   * Forgets what only the active server's sidecar reports: its tokens' expiry and the verifier's
   * findings. A former active would otherwise keep exporting them (alerts take the minimum over
   * pods: an old plan-token expiry would page as "expiring" and a fixed finding would stay).
   */
  notActive(): void {
    this.tokenExpiry.clear();
    this.expiryGauge.reset();
    this.findingsGauge.reset();
    if (this.verifier) this.verifier = { ...this.verifier, findings: [] };
  }

  failed(step: string): void {
    this.failures.inc({ step });
  }

  verified(findings: Finding[]): void {
    this.verifier = { lastRunAt: Date.now(), findings };
    this.findingsGauge.reset();
    for (const f of findings) this.findingsGauge.inc({ kind: f.kind });
    this.verifiedGauge.set(this.verifier.lastRunAt / 1000);
  }

  snapshot(): StatusSnapshot {
    return {
      pod: this.pod,
      state: this.state,
      initialized: this.initialized,
      sealed: this.sealed,
      lastConvergedAt: this.lastConvergedAt ? new Date(this.lastConvergedAt).toISOString() : undefined,
      diagnosis: this.diagnosis,
      tokens: Object.fromEntries([...this.tokenExpiry].map(([k, v]) => [k, { expiresAt: new Date(v).toISOString() }])),
      verifier: this.verifier ? { lastRunAt: new Date(this.verifier.lastRunAt).toISOString(), findings: this.verifier.findings } : undefined,
      certificate: this.certificate,
    };
  }
}
