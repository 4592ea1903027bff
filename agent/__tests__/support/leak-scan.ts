// Collects every key and token a test's vaults produced (from the Secret
// Manager stand-in) and looks for them, in several encodings, in everything
// the sidecars printed.
import type { SecretManagerStandIn } from "./secret-manager-stand-in";

function strings(value: unknown, out: string[]): void {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => strings(v, out));
}

/** The secret values stored in a world: unseal/recovery keys (base64 and hex), root, plan, sidecar and generate-root tokens. */
export function storedSecrets(
  store: SecretManagerStandIn,
  ids: { initResponse: string; rootToken: string; planToken: string; sidecarToken: string },
): string[] {
  const found = new Set<string>();
  for (const id of [ids.initResponse, ids.rootToken, ids.planToken, ids.sidecarToken]) {
    for (const version of store.versions(id)) {
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(version.toString("utf8")) as Record<string, unknown>;
      } catch {
        continue; // garbage a test wrote on purpose
      }
      const values: string[] = [];
      strings([doc.response, doc.token, doc.root_token, doc.generateRootToken], values);
      for (const v of values) {
        if (v.length < 16) continue;
        found.add(v);
        if (/^[A-Za-z0-9+/]+=*$/.test(v) && v.length % 4 === 0) found.add(Buffer.from(v, "base64").toString("hex"));
      }
    }
  }
  return [...found];
}

/** Describes each secret found in the text (never printing the secret itself). */
export function findLeaks(secrets: readonly string[], text: string): string[] {
  return secrets.filter((s) => text.includes(s)).map((s) => `a ${s.length}-character secret starting ${s.slice(0, 4)}...`);
}
