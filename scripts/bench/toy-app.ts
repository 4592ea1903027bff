// The yardsticks for the tenant-scale benchmark: a cdktf app with N trivial
// resources of the same provider (vault_mount), either in one stack or spread
// over S stacks (each with its backend and provider, like a tenant stack),
// synthesized the same way. Their cost is cdktf's own; what the real synth
// costs beyond them is vault-gke's.
import { Mount } from "@cdktf/provider-vault/lib/mount";
import { VaultProvider } from "@cdktf/provider-vault/lib/provider";
import { App, GcsBackend, TerraformStack } from "cdktf";

const resources = Number(process.argv[2]);
const stacks = Number(process.argv[3] ?? "1");
if (!Number.isInteger(resources) || resources < 1 || !Number.isInteger(stacks) || stacks < 1) {
  process.stderr.write("usage: node dist/toy-app.js <resources> [stacks]\n");
  process.exit(2);
}
const app = new App({ stackTraces: false });
for (let s = 0; s < stacks; s++) {
  const stack = new TerraformStack(app, `toy-${s}`);
  new GcsBackend(stack, { bucket: "toy-state", prefix: `toy/${s}` });
  new VaultProvider(stack, "vault", { address: "https://vault.invalid:8200" });
  const share = Math.floor(resources / stacks) + (s < resources % stacks ? 1 : 0);
  for (let i = 0; i < share; i++) new Mount(stack, `m${i}`, { path: `toy/${s}/${i}`, type: "kv" });
}
app.synth();
