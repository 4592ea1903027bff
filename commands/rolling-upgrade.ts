// `npm run --silent rolling-upgrade -- <environment> [--dry-run] [--namespace <ns>] [--target-version <v>]`:
// restarts the environment's Vault pods one at a time after a change of the
// StatefulSet (a new image or configuration; it updates `OnDelete`), so that
// clients with the recommended retries (README, "Exposure") see no failed
// request: each standby in turn, then the active server after a step-down.
// Before each restart it checks Raft autopilot's state (every pod a healthy
// voter, failure tolerance at least 1) and refuses to go on otherwise; after
// each it waits until the pod is Ready, and autopilot shows its server a
// healthy voter (on --target-version when given: then pods already on it are
// left alone) for the autopilot server_stabilization_time. --dry-run prints the
// steps and changes nothing. Run it with an admin token (the admin policy
// reads autopilot's state and may step down):
//   VAULT_TOKEN=<admin token> VAULT_CACERT=<ca file> npm run --silent rolling-upgrade -- example --dry-run
// VAULT_ADDR defaults to the environment's Vault address; kubectl must reach
// the cluster (the namespace defaults to the environment's vault.namespace).
// Exit codes: 0 done (or the dry run printed), 1 refused or stopped (the
// message says what to fix, and the run can be started again: it restarts
// only what is left when --target-version is given), 2 bad usage or settings,
// 3 Vault could not be read.
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { readVaultCaFile } from "./vault-ca-file";
import { ConfigError, environmentNames, loadEnvironmentFile } from "../config/load";
import { vaultAddress } from "../config/names";
import { vaultPodNames } from "../constructs/vault-naming";
import { describePlan, runRollingUpgrade, safetyProblems, UpgradeStopped, vaultAccess, type AutopilotState } from "./rolling-upgrade-plan";

const root = resolve(__dirname, "..");
const run = promisify(execFile);
const USAGE =
  "usage: npm run --silent rolling-upgrade -- <environment> [--dry-run] [--namespace <ns>] [--target-version <version>] (with VAULT_TOKEN, and VAULT_CACERT for a private CA)";
/** The longest one wait may take: a pod's rescheduling and image pull included. */
const WAIT_MS = 15 * 60_000;

function fail(code: number, message: string): never {
  process.stderr.write(`rolling-upgrade: ${message}\n`);
  process.exit(code);
}

interface Args {
  readonly name: string;
  readonly dryRun: boolean;
  readonly namespace?: string;
  readonly targetVersion?: string;
}

function parseArgs(args: readonly string[]): Args {
  const rest = [...args];
  const value = (flag: string): string | undefined => {
    const i = rest.indexOf(flag);
    if (i < 0) return undefined;
    const v = rest[i + 1];
    if (!v || v.startsWith("-")) fail(2, `${flag} needs a value, got ${v === undefined ? "nothing" : JSON.stringify(v)}; ${USAGE}`);
    rest.splice(i, 2);
    return v;
  };
  const namespace = value("--namespace");
  const targetVersion = value("--target-version")?.replace(/^v/, "");
  const dry = rest.indexOf("--dry-run");
  if (dry >= 0) rest.splice(dry, 1);
  const unknown = rest.filter((a) => a.startsWith("-"));
  if (unknown.length > 0) fail(2, `unknown option ${unknown.map((a) => JSON.stringify(a)).join(", ")}; ${USAGE}`);
  if (rest.length !== 1)
    fail(
      2,
      `${rest.length === 0 ? "no environment given" : `expected one environment, got ${rest.length} arguments (${rest.map((a) => JSON.stringify(a)).join(" ")})`}; ${USAGE}`,
    );
  return { name: rest[0], dryRun: dry >= 0, namespace, targetVersion };
}

/** `kubectl delete pod` (graceful, as the kubelet stops it), then waits for the pod the StatefulSet recreates to be Ready. */
async function restartPod(namespace: string, pod: string, log: (line: string) => void): Promise<void> {
  const get = async (): Promise<{ uid: string; ready: string } | undefined> => {
    try {
      const { stdout } = await run("kubectl", [
        "-n",
        namespace,
        "get",
        "pod",
        pod,
        "-o",
        'jsonpath={.metadata.uid} {.status.conditions[?(@.type=="Ready")].status}',
      ]);
      const [uid, ready = ""] = stdout.trim().split(" ");
      return { uid, ready };
    } catch {
      return undefined; // between the deletion and the new pod
    }
  };
  const before = await get();
  if (!before) throw new UpgradeStopped(`kubectl cannot read pod ${pod} in namespace ${namespace}: check the kube context and --namespace`);
  await run("kubectl", ["-n", namespace, "delete", "pod", pod, "--wait=true"]);
  log(`deleted pod ${pod}; waiting for the StatefulSet's new ${pod} to be Ready`);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const now = await get();
    if (now && now.uid !== before.uid && now.ready === "True") return;
    if (Date.now() > deadline)
      throw new UpgradeStopped(
        `the new pod ${pod} is not Ready after ${WAIT_MS / 60_000} minutes: kubectl -n ${namespace} describe pod ${pod}, and its sidecar's log (operator guide: "What each sidecar log line means")`,
      );
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = process.env.VAULT_GKE_ENVIRONMENTS ?? join(root, "environments");
  const known = environmentNames(dir);
  if (!known.includes(args.name))
    fail(
      2,
      `no environment ${JSON.stringify(args.name)} in ${dir}; ${known.length > 0 ? `use one of ${known.join(", ")}` : "write environments/<name>.yaml first (copy environments/example.yaml)"}`,
    );
  let env;
  try {
    env = loadEnvironmentFile(join(dir, `${args.name}.yaml`));
  } catch (error) {
    if (error instanceof ConfigError) fail(2, error.problems.join("\n"));
    throw error;
  }
  if (env.vault.storage !== "raft")
    fail(2, `environment ${env.name} stores Vault's data in ${env.vault.storage}, not Raft: roll its pods by hand (operator guide)`);
  const token = process.env.VAULT_TOKEN;
  if (!token) fail(2, "VAULT_TOKEN is not set; use an admin token (it reads autopilot's state and may step down)");
  const { ca, problem } = readVaultCaFile();
  if (problem) fail(2, problem);
  const address = process.env.VAULT_ADDR ?? vaultAddress(env);
  const namespace = args.namespace ?? env.vault.namespace;
  const pods = vaultPodNames(env.vault.replicas);
  const options = { pods, targetVersion: args.targetVersion };
  const vault = vaultAccess(address, token, ca);
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  try {
    let state: AutopilotState;
    let stableMs: number;
    try {
      state = await vault.readState();
      stableMs = await vault.stabilizationMs();
    } catch (error) {
      fail(3, `reading autopilot's state from ${address} failed: ${(error as Error).message}`);
    }
    if (args.dryRun) {
      const problems = safetyProblems(state, options);
      for (const s of state.servers) process.stdout.write(`${s.id}: ${s.status}, ${s.healthy ? "healthy" : "unhealthy"}, version ${s.version || "unknown"}\n`);
      process.stdout.write(`failure tolerance ${state.failureTolerance}; after each restart the server must stay a healthy voter ${stableMs / 1000} s\n`);
      if (problems.length > 0) fail(1, `a run would refuse to start:\n  ${problems.join("\n  ")}`);
      const steps = describePlan(state, options);
      process.stdout.write(steps.length > 0 ? `would, in namespace ${namespace}:\n${steps.map((s, i) => `  ${i + 1}. ${s}`).join("\n")}\n` : "nothing to do\n");
      return;
    }
    const order = await runRollingUpgrade(
      { readState: () => vault.readState(), stepDown: () => vault.stepDown(), restart: (pod) => restartPod(namespace, pod, log), log },
      { ...options, stableMs, waitMs: WAIT_MS },
    );
    log(order.length > 0 ? `done: restarted ${order.join(", ")}` : `nothing to do: every server reports ${args.targetVersion}`);
  } catch (error) {
    if (error instanceof UpgradeStopped)
      fail(
        1,
        `${error.message}\nNothing else was changed. Fix that, then run the command again${args.targetVersion ? " (it restarts only the servers not yet on the target version)" : " with --target-version, so that it skips the servers already restarted"}; operator guide: "Upgrading Vault, pod by pod".`,
      );
    fail(1, `stopped: ${(error as Error).message}; check the pods (kubectl -n ${namespace} get pods -L vault-active) and run the command again`);
  } finally {
    vault.close();
  }
}

void main();
