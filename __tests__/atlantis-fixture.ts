// Shared by the atlantis*.test.ts files: Atlantis' raw repo and server-side config, as strict schemas of the
// keys Atlantis decodes, the server-side checks of a repository's file, and the repository's atlantis.yaml
// and deploy/atlantis/repos.yaml parsed by them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { ROOT } from "./helpers";

// --- Atlantis' raw repo config (server/core/config/raw, v0.47.1): every key it decodes, strictly ---
const requirement = z.enum(["approved", "mergeable", "undiverged", "policies_passed"]);
const repoLocks = z.strictObject({ mode: z.enum(["disabled", "on_plan", "on_apply"]) });
const rawStep = z.union([z.string(), z.record(z.string(), z.unknown())]);
const rawStage = z.strictObject({ steps: z.array(rawStep) });
const rawWorkflow = z.strictObject({
  plan: rawStage.optional(),
  apply: rawStage.optional(),
  policy_check: rawStage.optional(),
  import: rawStage.optional(),
  state_rm: rawStage.optional(),
});
const rawProject = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._~\-/]+$/)
    .optional(),
  branch: z
    .string()
    .regex(/^\/.*\/$/)
    .optional(),
  dir: z.string().refine((d) => !d.includes(".."), "cannot contain '..'"),
  workspace: z.string().optional(),
  workflow: z.string().optional(),
  terraform_distribution: z.enum(["terraform", "opentofu"]).optional(),
  terraform_version: z.string().optional(),
  autoplan: z.strictObject({ when_modified: z.array(z.string()).optional(), enabled: z.boolean().optional() }).optional(),
  plan_requirements: z.array(requirement).optional(),
  apply_requirements: z.array(requirement).optional(),
  import_requirements: z.array(requirement).optional(),
  depends_on: z.array(z.string()).optional(),
  delete_source_branch_on_merge: z.boolean().optional(),
  repo_locking: z.boolean().optional(),
  repo_locks: repoLocks.optional(),
  execution_order_group: z.number().int().optional(),
  policy_check: z.boolean().optional(),
  custom_policy_check: z.boolean().optional(),
  silence_pr_comments: z.array(z.enum(["plan", "apply"])).optional(),
});
export const rawRepoConfig = z.strictObject({
  version: z.union([z.literal(2), z.literal(3)]),
  projects: z.array(rawProject).optional(),
  workflows: z.record(z.string(), rawWorkflow).optional(),
  policies: z.unknown().optional(),
  autodiscover: z.strictObject({ mode: z.enum(["auto", "enabled", "disabled"]).optional(), ignore_paths: z.array(z.string()).optional() }).optional(),
  automerge: z.boolean().optional(),
  parallel_apply: z.boolean().optional(),
  parallel_plan: z.boolean().optional(),
  delete_source_branch_on_merge: z.boolean().optional(),
  emoji_reaction: z.string().optional(),
  allowed_regexp_prefixes: z.array(z.string()).optional(),
  abort_on_execution_order_fail: z.boolean().optional(),
  repo_locks: repoLocks.optional(),
  silence_pr_comments: z.array(z.enum(["plan", "apply"])).optional(),
});
type RawRepoConfig = z.infer<typeof rawRepoConfig>;

// --- Atlantis' raw server-side config (the keys vault-gke may use), strictly ---
const hook = z.strictObject({
  run: z.string(),
  description: z.string().optional(),
  shell: z.string().optional(),
  shellArgs: z.string().optional(),
  commands: z.string().optional(),
});
const serverRepo = z.strictObject({
  id: z.string(),
  branch: z.string().optional(),
  repo_config_file: z.string().optional(),
  plan_requirements: z.array(requirement).optional(),
  apply_requirements: z.array(requirement).optional(),
  import_requirements: z.array(requirement).optional(),
  pre_workflow_hooks: z.array(hook).optional(),
  post_workflow_hooks: z.array(hook).optional(),
  workflow: z.string().optional(),
  allowed_workflows: z.array(z.string()).optional(),
  allowed_overrides: z.array(z.string()).optional(),
  allow_custom_workflows: z.boolean().optional(),
  delete_source_branch_on_merge: z.boolean().optional(),
  repo_locks: repoLocks.optional(),
  policy_check: z.boolean().optional(),
  custom_policy_check: z.boolean().optional(),
});
const serverConfig = z.strictObject({ repos: z.array(serverRepo), workflows: z.record(z.string(), rawWorkflow).optional() });
type ServerConfig = z.infer<typeof serverConfig>;

/** The checks Atlantis' ValidateRepoCfg makes of a repository's file against the server-side config. */
export function serverSideProblems(repoCfg: RawRepoConfig, server: ServerConfig): string[] {
  const repo = server.repos[server.repos.length - 1];
  const allowed = repo.allowed_overrides ?? [];
  const problems: string[] = [];
  const gated = [
    "workflow",
    "apply_requirements",
    "plan_requirements",
    "import_requirements",
    "delete_source_branch_on_merge",
    "repo_locking",
    "repo_locks",
    "custom_policy_check",
    "silence_pr_comments",
  ] as const;
  for (const p of repoCfg.projects ?? []) {
    for (const key of gated) if (p[key] !== undefined && !allowed.includes(key)) problems.push(`${p.name}: repo config not allowed to set '${key}' key`);
  }
  if (Object.keys(repoCfg.workflows ?? {}).length > 0 && repo.allow_custom_workflows !== true)
    problems.push("repo config not allowed to define custom workflows");
  return problems;
}

// --- the repository's files, parsed ---
export const text = readFileSync(join(ROOT, "atlantis.yaml"), "utf8");
export const config = rawRepoConfig.parse(parse(text));
export const projects = config.projects ?? [];
export const server = serverConfig.parse(parse(readFileSync(join(ROOT, "deploy", "atlantis", "repos.yaml"), "utf8")));
