// Scrapes what Managed Prometheus scrapes in a Vault pod: the sidecar's
// /metrics and, with vault.unauthenticatedMetrics, Vault's telemetry
// (/v1/sys/metrics?format=prometheus, no token). A target that does not answer
// gives no samples, as a failed scrape gives none.
import { VAULT_METRICS_PATH } from "../../constructs/vault-pod-monitoring";
import { vaultRequest } from "../support/vault-http";
import { asCollected, declaredNames, parseExposition, type Sample } from "./exposition";
import type { Recording } from "./timeline";

export type Target =
  | { readonly kind: "sidecar"; readonly pod: string; readonly url: string }
  | { readonly kind: "vault"; readonly pod: string; readonly addr: string; readonly ca: Buffer; readonly token?: string };

/** The body of one scrape, or undefined when the target does not answer with metrics. */
export async function scrapeText(target: Target): Promise<string | undefined> {
  try {
    if (target.kind === "sidecar") {
      const res = await fetch(`${target.url}/metrics`, { signal: AbortSignal.timeout(3000) });
      return res.ok ? await res.text() : undefined;
    }
    const res = await vaultRequest(target.addr, target.ca, "GET", `${VAULT_METRICS_PATH}?format=prometheus`, { token: target.token, timeoutMs: 3000 });
    return res.status === 200 && typeof res.body.raw === "string" ? res.body.raw : undefined;
  } catch {
    return undefined;
  }
}

export interface Scraped {
  readonly recording: Recording;
  /** The pods (and which endpoint) that gave no metrics. */
  readonly unanswered: readonly string[];
}

/** Scrapes every target at one moment, labelled as Managed Prometheus labels them in `cluster`/`namespace`. */
export async function record(state: string, targets: readonly Target[], where: { cluster: string; namespace: string }): Promise<Scraped> {
  const atSec = Date.now() / 1000;
  const bodies = await Promise.all(targets.map(scrapeText));
  const samples: Sample[] = [];
  const declared = new Set<string>();
  const unanswered: string[] = [];
  bodies.forEach((body, i) => {
    const t = targets[i];
    if (body === undefined) unanswered.push(`${t.pod} ${t.kind}`);
    else {
      samples.push(...asCollected(parseExposition(body), { ...where, pod: t.pod }));
      for (const name of declaredNames(body)) declared.add(name);
    }
  });
  return { recording: { state, atSec, samples, declared: [...declared].sort() }, unanswered };
}

/** The samples of one metric, optionally of one pod. */
export function samplesOf(recording: Recording, name: string, pod?: string): Sample[] {
  return recording.samples.filter((s) => s.name === name && (pod === undefined || s.labels.pod === pod));
}

/** The pods whose sidecar reports `state` (vault_gke_sidecar_vault_state{state} = 1). */
export function podsIn(recording: Recording, state: string): string[] {
  return samplesOf(recording, "vault_gke_sidecar_vault_state")
    .filter((s) => s.labels.state === state && s.value === 1)
    .map((s) => s.labels.pod)
    .sort();
}
