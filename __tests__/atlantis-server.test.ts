// The Atlantis server of deploy/atlantis keeps its promises: its repos.yaml lets the repository define no
// workflow and override nothing, the approval-gated synth hook runs before every command that runs pull-request
// code, its image (parsed, it cannot be built here) ships the pinned tools and scripts, and no lifecycle
// script runs anywhere.
import { accessSync, constants, existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { SYNTH_DIR } from "../scripts/atlantis-config";
import { projects, server } from "./atlantis-fixture";
import { ROOT } from "./helpers";
import { joinPath } from "./support/atlantis-patterns";

describe("the Atlantis server (deploy/atlantis)", () => {
  const repo = server.repos[0];
  const bin = join(ROOT, "deploy", "atlantis", "bin");
  const commands = () => {
    const out: string[] = [...(repo.pre_workflow_hooks ?? []).map((h) => h.run)];
    for (const wf of Object.values(server.workflows ?? {})) {
      for (const stage of Object.values(wf)) {
        for (const step of stage?.steps ?? []) {
          if (typeof step === "string") continue;
          const s = step as { run?: string | { command: string }; env?: { command?: string } };
          if (typeof s.run === "string") out.push(s.run);
          else if (s.run?.command) out.push(s.run.command);
          if (s.env?.command) out.push(s.env.command);
        }
      }
    }
    return out;
  };

  it("lets the repository define no workflow and override nothing", () => {
    expect(repo.allow_custom_workflows).toBe(false);
    expect(repo.allowed_overrides ?? []).toEqual([]);
    expect(repo.workflow).toBe("vault-gke");
    expect(Object.keys(server.workflows ?? {})).toEqual(["vault-gke"]);
    expect(repo.apply_requirements).toEqual(["approved", "mergeable", "undiverged"]);
  });

  it("gates every command that runs pull-request code behind the hook that checks the approval and synthesizes once", () => {
    const hooks = repo.pre_workflow_hooks ?? [];
    expect(hooks.map((h) => h.run)).toEqual(["/opt/vault-gke/bin/pre-workflow-hook.sh"]);
    const gated = (hooks[0].commands ?? "").split(",");
    expect(gated).toEqual(expect.arrayContaining(["plan", "apply", "import", "state"]));
    expect(gated).not.toContain("unlock");
    expect(readFileSync(join(bin, "pre-workflow-hook.sh"), "utf8")).toMatch(/\$\(dirname "\$0"\)\/synth\.sh" "\$mode"/);
    const script = readFileSync(join(bin, "synth.sh"), "utf8");
    expect(script).toContain(`SYNTH_DIR=${SYNTH_DIR}\n`);
    expect(script).toMatch(/CDKTF_OUTDIR=\$repo\/\$SYNTH_DIR/);
    expect(script).toMatch(/npm ci --ignore-scripts/);
    expect(script).toMatch(/npm run --ignore-scripts --silent synth/);
  });

  // Atlantis merges a moved main again right before each project's plan; it never does before an apply.
  it("plans only the synth of the commit the clone is at, and applies only such plans", () => {
    const wf = server.workflows?.["vault-gke"];
    expect(wf?.plan?.steps[0]).toEqual({ run: "/opt/vault-gke/bin/synth.sh ensure" });
    expect(wf?.apply?.steps[0]).toEqual({ run: "/opt/vault-gke/bin/synth.sh check" });
  });

  // Autoplan could only fail: no push is approved at its new head. --disable-autoplan also skips the hooks on push.
  it("runs no autoplan, so a push before approval posts no failed hook or plan status", () => {
    const dockerfile = readFileSync(join(ROOT, "deploy", "atlantis", "Dockerfile"), "utf8");
    expect(/\bATLANTIS_DISABLE_AUTOPLAN=(\S+)/.exec(dockerfile)?.[1]).toBe("true");
  });

  // The apply is apply.sh: Atlantis' built-in apply would apply the shared stack's plan too (admin only).
  it("uses Atlantis' built-in init and plan steps, apply.sh to apply, and only scripts the image ships", () => {
    const wf = server.workflows?.["vault-gke"];
    const builtIns = (stage?: { steps: unknown[] }) => (stage?.steps ?? []).filter((s) => typeof s === "string");
    expect(builtIns(wf?.plan)).toEqual(["init", "plan"]);
    expect(builtIns(wf?.apply)).toEqual([]);
    expect(wf?.apply?.steps).toContainEqual({ run: "/opt/vault-gke/bin/apply.sh" });
    expect(wf?.plan?.steps.at(-1)).toEqual({ run: "/opt/vault-gke/bin/admin-changes.sh" });
    for (const command of commands()) {
      const m = /^\/opt\/vault-gke\/bin\/([a-z-]+\.sh)( (plan|apply|ensure|check))?$/.exec(command);
      expect(m).not.toBeNull();
      const file = join(bin, (m as RegExpExecArray)[1]);
      accessSync(file, constants.X_OK);
      expect(readFileSync(file, "utf8")).toMatch(/^#!\/usr\/bin\/env bash\n#[^\n]+\n[\s\S]*?\nset -euo pipefail\n/);
    }
  });

  it("runs no lifecycle script anywhere: npm ci always with --ignore-scripts, never npm install", () => {
    const files = [
      join(ROOT, "deploy", "atlantis", "repos.yaml"),
      ...readdirSync(bin).map((f) => join(bin, f)),
      ...(existsSync(join(ROOT, ".github", "workflows"))
        ? readdirSync(join(ROOT, ".github", "workflows")).map((f) => join(ROOT, ".github", "workflows", f))
        : []),
    ];
    for (const file of files) {
      const content = readFileSync(file, "utf8");
      for (const m of content.matchAll(/npm (ci|install|i|add)\b[^\n]*/g)) {
        expect({ file: relative(ROOT, file), command: m[0] }).toEqual({
          file: relative(ROOT, file),
          command: expect.stringMatching(/^npm ci --ignore-scripts\b/),
        });
      }
    }
  });

  it("ships an image (parsed: it cannot be built here) with the pinned Atlantis, Node.js 22, gcloud, jq, the config and the scripts", () => {
    const dockerfile = readFileSync(join(ROOT, "deploy", "atlantis", "Dockerfile"), "utf8");
    const arg = (name: string) => new RegExp(`^ARG ${name}=(\\S+)$`, "m").exec(dockerfile)?.[1];
    expect(arg("ATLANTIS_IMAGE")).toMatch(/^ghcr\.io\/runatlantis\/atlantis:v0\.47\.1(-debian)?(@sha256:[0-9a-f]{64})?$/);
    expect(arg("NODE_IMAGE")).toMatch(/^node:22[.-]/);
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms[froms.length - 1]).toBe("${ATLANTIS_IMAGE}");
    expect(dockerfile).toMatch(/node --version \| grep -q '\^v22\\\.'/);
    expect(dockerfile).toMatch(/google-cloud-cli=\$\{GOOGLE_CLOUD_CLI_VERSION\}/);
    expect(dockerfile).toMatch(/apt-get install[^\n]* jq /);
    const env = (name: string) => new RegExp(`\\b${name}=(\\S+)`).exec(dockerfile)?.[1];
    expect(env("ATLANTIS_REPO_CONFIG")).toBe("/etc/atlantis/repos.yaml");
    expect(env("ATLANTIS_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR")).toBe("true");
    expect(env("ATLANTIS_TF_DOWNLOAD")).toBe("false");
    expect(dockerfile).toMatch(/^COPY [^\n]*repos\.yaml \/etc\/atlantis\/repos\.yaml$/m);
    expect(dockerfile).toMatch(/^COPY [^\n]*--chmod=0555 bin\/ \/opt\/vault-gke\/bin\/$/m);
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(users[users.length - 1]).toBe("atlantis");
  });

  it("resolves every project's dir and patterns inside the repository", () => {
    for (const p of projects) {
      for (const wm of p.autoplan?.when_modified ?? []) expect(resolve(ROOT, joinPath(p.dir, wm)).startsWith(`${ROOT}/`)).toBe(true);
    }
  });
});
