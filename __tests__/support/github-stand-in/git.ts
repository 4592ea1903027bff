// Local git on the served bare repository: the synchronous helpers tests call, and the asynchronous reads the
// handlers make (a handler must not block the event loop that answers git's own requests).
import { execFile, execFileSync } from "node:child_process";
import type { ChangedFile, Pull } from "./types";

const FILE_STATUS: Record<string, ChangedFile["status"]> = { A: "added", M: "modified", D: "removed", R: "renamed", C: "copied", T: "changed" };

/** The environment without GIT_* variables (a test run from a git hook has GIT_DIR set, which would redirect every git here). */
export function gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GIT_")) env[k] = v;
  return { ...env, ...extra };
}

export function gitAsync(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("git", args, { env: gitEnv(), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`git ${args.join(" ")}: ${String(stderr).trim() || error.message}`)) : resolve(String(stdout)),
    ),
  );
}

export function gitSync(args: string[]): string {
  return execFileSync("git", args, { env: gitEnv(), stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 }).toString();
}

/** A branch's tip in bareDir now: a pull request's head or base SHA. */
export async function tip(bareDir: string, branch: string): Promise<string> {
  return (await gitAsync(["--git-dir", bareDir, "rev-parse", "--verify", "-q", `refs/heads/${branch}^{commit}`])).trim();
}

/** The pull request's files: from the merge base of base and head to head, renames detected, as GitHub lists them. */
export async function changedFiles(bareDir: string, pull: Pull): Promise<ChangedFile[]> {
  const [head, base] = await Promise.all([tip(bareDir, pull.headRef), tip(bareDir, pull.baseRef)]);
  const mergeBase = (await gitAsync(["--git-dir", bareDir, "merge-base", base, head])).trim();
  const out = await gitAsync(["--git-dir", bareDir, "diff", "--name-status", "-z", "-M", mergeBase, head]);
  const fields = out.split("\0");
  const files: ChangedFile[] = [];
  for (let i = 0; i + 1 < fields.length;) {
    const code = fields[i++];
    const status = FILE_STATUS[code[0]] ?? "modified";
    const counts = { additions: 0, deletions: 0, changes: 0 };
    if (code[0] === "R" || code[0] === "C") {
      const [from, to] = [fields[i++], fields[i++]];
      files.push({ filename: to, status, previous_filename: from, ...counts });
    } else {
      files.push({ filename: fields[i++], status, ...counts });
    }
  }
  return files;
}
