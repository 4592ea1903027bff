// The seam between our JSON and Terraform, run for real: every synthesized
// stack of the example initializes with the providers our bindings were
// generated from (built from ../shared/vendor into .tools/tf-mirror by
// `npm run tools`, the way an air-gapped installation serves them) and passes
// `terraform validate` (Terraform 1.11 on the machine). No backend: validate
// reads no state.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesizeTo } from "../scripts/atlantis-config";
import { ROOT } from "./helpers";
import { writeMirrorCliConfig } from "./support/terraform-mirror";

jest.setTimeout(300_000);

let outdir: string;
let cli: string;

beforeAll(async () => {
  outdir = await synthesizeTo(ROOT);
  cli = mkdtempSync(join(tmpdir(), "vault-gke-tf-cli-"));
  mkdirSync(join(cli, "plugin-cache"));
  writeMirrorCliConfig(join(cli, "terraform.rc"), join(cli, "plugin-cache"));
});
afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
  if (cli) rmSync(cli, { recursive: true, force: true });
});

describe("terraform validate", () => {
  it("passes for every stack of the example, with the vendored providers", () => {
    const stacks = readdirSync(join(outdir, "stacks")).sort();
    expect(stacks).toEqual(["example-platform", "example-shared", "example-tenant-payments", "example-tenant-search", "example-vault"]);
    const env = { ...process.env, TF_CLI_CONFIG_FILE: join(cli, "terraform.rc"), CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" };
    const results = stacks.map((stack) => {
      const dir = join(outdir, "stacks", stack);
      execFileSync("terraform", ["init", "-backend=false", "-input=false", "-no-color"], { cwd: dir, env, stdio: "pipe" });
      const out = JSON.parse(execFileSync("terraform", ["validate", "-json", "-no-color"], { cwd: dir, env, encoding: "utf8" })) as {
        valid: boolean;
        diagnostics: { severity: string; summary: string }[];
      };
      return { stack, valid: out.valid, errors: out.diagnostics.filter((d) => d.severity === "error").map((d) => d.summary) };
    });
    expect(results).toEqual(stacks.map((stack) => ({ stack, valid: true, errors: [] })));
  });
});
