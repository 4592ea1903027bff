// The policies in this folder are the single source of the admin and
// provisioner policies: the vault stack ships them to the bootstrap sidecar in
// a ConfigMap, and the policy tests load them into a real OpenBao server.
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";

/** This folder, found the same way from the sources (jest) and from dist/ (the esbuild bundle). */
export const POLICY_DIR = resolve(__dirname, "..", "policies");

/** Every *.hcl policy in this folder, by name (file name without .hcl). */
export function loadPolicies(dir = POLICY_DIR): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith(".hcl"))
      .sort()
      .map((f) => [f.slice(0, -4), readFileSync(join(dir, f), "utf8")]),
  );
}
