// Collects every key and token the tests' vaults produced, so the leak scan
// can look for them in everything the sidecars printed.
import type { SecretManagerStandIn } from "./secret-manager-stand-in";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { transcript } from "./sidecar";

const FILE = join(tmpdir(), `vault-gke-leak-scan-${process.ppid}.jsonl`);

function secretsIn(value: unknown, out: string[]): void {
  if (typeof value === "string") {
    if (value.length >= 16) out.push(value);
  } else if (Array.isArray(value)) value.forEach((v) => secretsIn(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => secretsIn(v, out));
}

/** Called by each sidecar test file when done: records its secrets and its transcript in a file the scan test reads. */
export function recordSecrets(store: SecretManagerStandIn, ids: { initResponse: string; rootToken: string; provisionerToken: string }): void {
  const secrets: string[] = [];
  for (const id of [ids.initResponse, ids.rootToken, ids.provisionerToken]) {
    for (const version of store.versions(id)) {
      const doc = JSON.parse(version.toString("utf8")) as Record<string, unknown>;
      const values: string[] = [];
      secretsIn({ response: doc.response, token: doc.token, root_token: doc.root_token }, values);
      for (const v of values.filter((x) => !/^(vault-gke|20\d\d-)/.test(x))) {
        secrets.push(v);
        // Also the other encodings a key could leak in.
        if (/^[A-Za-z0-9+/]+=*$/.test(v)) secrets.push(Buffer.from(v, "base64").toString("hex"));
      }
    }
  }
  appendFileSync(FILE, `${JSON.stringify({ secrets, transcript: transcript.join("") })}\n`);
}

export function recordedRuns(): { secrets: string[]; transcript: string }[] {
  if (!existsSync(FILE)) return [];
  return readFileSync(FILE, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { secrets: string[]; transcript: string });
}
