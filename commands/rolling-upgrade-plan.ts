// The rolling upgrade (npm run rolling-upgrade, commands/rolling-upgrade.ts):
// a pure planner that reads Raft autopilot's state and decides the next step,
// and a driver that carries the steps out through actions it is given (the
// pod restart is `kubectl delete pod` in the cluster, a process restart in the
// test), waiting after each until autopilot shows the cluster whole again.
// Standbys go one at a time; the active server last, after a step-down, when it
// is a standby like the others.
import { VaultClient } from "@vault-gke/agent/vault";

export interface AutopilotServer {
  readonly id: string;
  /** leader, voter, non-voter (and staging while autopilot promotes one). */
  readonly status: string;
  readonly healthy: boolean;
  /** The version the server reports (OpenBao and Vault 1.11+); empty when it reports none. */
  readonly version: string;
  readonly lastContact: string;
}

export interface AutopilotState {
  readonly healthy: boolean;
  readonly failureTolerance: number;
  readonly leader: string;
  readonly servers: readonly AutopilotServer[];
}

/** The body of GET /v1/sys/storage/raft/autopilot/state (its `data`), in the planner's terms. */
export function parseAutopilotState(data: Record<string, unknown>): AutopilotState {
  const servers = Object.entries((data.servers ?? {}) as Record<string, Record<string, unknown>>).map(([key, s]) => ({
    id: String(s.id ?? key),
    status: String(s.status ?? ""),
    healthy: s.healthy === true,
    version: String(s.version ?? ""),
    lastContact: String(s.last_contact ?? ""),
  }));
  return {
    healthy: data.healthy === true,
    failureTolerance: Number(data.failure_tolerance ?? 0),
    leader: String(data.leader ?? ""),
    servers: servers.sort((a, b) => a.id.localeCompare(b.id)),
  };
}

export interface PlanOptions {
  /** The pods (Raft node ids: the shipped RAFT_NODE_ID is the pod name), in any order. */
  readonly pods: readonly string[];
  /** Restart only the servers not yet on this version, and wait until each reports it. */
  readonly targetVersion?: string;
}

/**
 * What keeps the cluster from losing a server safely, one line each naming the fix; none: safe.
 * Each restart takes one server away, so every pod must be a healthy voter and autopilot must count
 * a failure tolerance of at least 1.
 */
export function safetyProblems(state: AutopilotState, options: PlanOptions): string[] {
  const problems: string[] = [];
  const known = new Map(state.servers.map((s) => [s.id, s]));
  const missing = options.pods.filter((p) => !known.has(p));
  if (missing.length > 0)
    problems.push(
      `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not in autopilot's state (it knows ${[...known.keys()].join(", ") || "no server"}): let the pod start, unseal and join Raft (its sidecar's log says why not) before upgrading`,
    );
  const extra = state.servers.filter((s) => !options.pods.includes(s.id));
  if (extra.length > 0)
    problems.push(
      `autopilot knows ${extra.map((s) => s.id).join(", ")}, which no pod of the StatefulSet is (${options.pods.join(", ")}): remove the stale peer (break-glass: bao operator raft remove-peer) or check --namespace and the environment's replicas`,
    );
  if (!state.leader) problems.push("autopilot names no leader: wait until the cluster has elected one (GET /v1/sys/leader)");
  for (const s of state.servers.filter((s) => options.pods.includes(s.id))) {
    if (!s.healthy)
      problems.push(
        `${s.id} is unhealthy in autopilot's state (last contact ${s.lastContact || "never"}): wait for it or repair it first (operator guide: "Recovering a lost pod")`,
      );
    else if (s.status !== "leader" && s.status !== "voter")
      problems.push(`${s.id} is a ${s.status || "server of no status"}, not a voter: wait until autopilot promotes it`);
  }
  if (!state.healthy && problems.length === 0)
    problems.push("autopilot reports the cluster unhealthy: wait until GET /v1/sys/storage/raft/autopilot/state says healthy");
  if (state.failureTolerance < 1)
    problems.push(
      `autopilot's failure tolerance is ${state.failureTolerance}: restarting any server would stop the cluster; it needs at least 3 healthy voters (vault.replicas 3 or more, all of them up)`,
    );
  return problems;
}

/**
 * Whether this server still needs its restart. `stepped` are servers stepped down for their restart:
 * they need it whatever version autopilot shows, because a new leader reports a follower's version
 * from its own until the follower's first heartbeat (a run once took the old active's 2.7.1 for 2.7.2
 * and left it un-upgraded).
 */
function pending(server: AutopilotServer | undefined, done: ReadonlySet<string>, options: PlanOptions, stepped: ReadonlySet<string>): boolean {
  if (!server) return false;
  if (done.has(server.id)) return false;
  if (stepped.has(server.id)) return true;
  return options.targetVersion === undefined || server.version !== options.targetVersion;
}

export type Step =
  | { readonly kind: "restart"; readonly pod: string }
  | { readonly kind: "step-down"; readonly pod: string }
  | { readonly kind: "wait"; readonly problems: readonly string[] }
  | { readonly kind: "done" };

/** The next step, from autopilot's state and the pods restarted so far. */
export function nextStep(state: AutopilotState, done: ReadonlySet<string>, options: PlanOptions, stepped: ReadonlySet<string> = new Set()): Step {
  const byId = new Map(state.servers.map((s) => [s.id, s]));
  const todo = [...options.pods].sort().filter((p) => pending(byId.get(p), done, options, stepped));
  if (todo.length === 0 && options.pods.every((p) => byId.has(p))) return { kind: "done" };
  const problems = safetyProblems(state, options);
  if (problems.length > 0) return { kind: "wait", problems };
  const standby = todo.find((p) => p !== state.leader);
  if (standby) return { kind: "restart", pod: standby };
  return { kind: "step-down", pod: state.leader };
}

/** The steps a run would take from this state, as lines (for --dry-run); changes nothing. */
export function describePlan(state: AutopilotState, options: PlanOptions): string[] {
  const byId = new Map(state.servers.map((s) => [s.id, s]));
  const todo = [...options.pods].sort().filter((p) => pending(byId.get(p), new Set(), options, new Set()));
  const wait = `until it is unsealed, a healthy voter${options.targetVersion ? ` on ${options.targetVersion}` : ""} and stable`;
  const lines = todo.filter((p) => p !== state.leader).map((p) => `restart ${p} (standby), wait ${wait}`);
  if (todo.includes(state.leader))
    lines.push(`step down ${state.leader} (active), wait until another server leads and is healthy`, `restart ${state.leader}, wait ${wait}`);
  const skipped = options.pods.filter((p) => byId.has(p) && !todo.includes(p));
  if (skipped.length > 0) lines.push(`leave ${skipped.join(", ")}: already on ${options.targetVersion}`);
  return lines;
}

export interface UpgradeActions {
  /** Autopilot's state, through the active server. Throws when it cannot be read (the driver reads again). */
  readState(): Promise<AutopilotState>;
  /** PUT /v1/sys/step-down on the active server. */
  stepDown(): Promise<void>;
  /** Stops the pod's server (gracefully) and starts it again; resolves once the new server is unsealed (the pod Ready). */
  restart(pod: string): Promise<void>;
  log(line: string): void;
}

export interface DriverOptions extends PlanOptions {
  /** How long a restarted server must stay a healthy voter before the next step (the autopilot server_stabilization_time). */
  readonly stableMs: number;
  /** The longest any one wait may take. */
  readonly waitMs: number;
  /** @default 500 */
  readonly pollMs?: number;
}

/** The run stopped: what happened and what to do. */
export class UpgradeStopped extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UpgradeStopped";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads autopilot's state until `check` passes (returns true), or stops the run after waitMs with `what` and the last reason. */
async function waitForState(
  actions: UpgradeActions,
  options: DriverOptions,
  what: string,
  check: (s: AutopilotState) => string | true,
): Promise<AutopilotState> {
  const deadline = Date.now() + options.waitMs;
  let last = "no state read yet";
  for (;;) {
    try {
      const state = await actions.readState();
      const verdict = check(state);
      if (verdict === true) return state;
      last = verdict;
    } catch (error) {
      last = `reading autopilot's state failed: ${(error as Error).message}`;
    }
    if (Date.now() > deadline) throw new UpgradeStopped(`gave up after ${Math.round(options.waitMs / 1000)} s waiting for ${what}: ${last}`);
    await sleep(options.pollMs ?? 500);
  }
}

/** Until `pod` is a healthy voter (on the target version) and has stayed so for stableMs. */
async function waitForServer(actions: UpgradeActions, options: DriverOptions, pod: string): Promise<void> {
  let since: number | undefined;
  await waitForState(actions, options, `${pod} to be back as a stable healthy voter`, (state) => {
    const s = state.servers.find((x) => x.id === pod);
    const why = !s
      ? `${pod} is not in autopilot's state`
      : !s.healthy
        ? `${pod} is not healthy yet (last contact ${s.lastContact || "never"})`
        : s.status !== "voter" && s.status !== "leader"
          ? `${pod} is a ${s.status || "server of no status"}, not a voter`
          : options.targetVersion !== undefined && s.version !== options.targetVersion
            ? `${pod} reports version ${s.version || "none"}, not ${options.targetVersion}`
            : undefined;
    if (why) {
      since = undefined;
      return why;
    }
    since ??= Date.now();
    return Date.now() - since >= options.stableMs ? true : `${pod} is a healthy voter, stable for ${Date.now() - since} of ${options.stableMs} ms`;
  });
}

/** Runs the whole upgrade; resolves with the pods restarted, in order. Throws UpgradeStopped with what to do. */
export async function runRollingUpgrade(actions: UpgradeActions, options: DriverOptions): Promise<string[]> {
  const first = await actions.readState();
  const problems = safetyProblems(first, options);
  if (problems.length > 0) throw new UpgradeStopped(`refusing to start:\n  ${problems.join("\n  ")}`);
  const done = new Set<string>();
  const stepped = new Set<string>();
  const order: string[] = [];
  for (;;) {
    // Before every step the cluster must be whole again, however the last step went.
    const state = await waitForState(actions, options, "the cluster to be healthy again", (s) => {
      const step = nextStep(s, done, options, stepped);
      return step.kind === "wait" ? step.problems.join("; ") : true;
    });
    const step = nextStep(state, done, options, stepped);
    if (step.kind === "done") return order;
    if (step.kind === "wait") continue;
    if (step.kind === "restart") {
      actions.log(`restarting ${step.pod}`);
      const started = Date.now();
      await actions.restart(step.pod);
      actions.log(`${step.pod} is unsealed again; waiting until autopilot shows it a healthy voter for ${options.stableMs} ms`);
      await waitForServer(actions, options, step.pod);
      done.add(step.pod);
      order.push(step.pod);
      actions.log(`${step.pod} is back (${Math.round((Date.now() - started) / 1000)} s)`);
      continue;
    }
    actions.log(`stepping down ${step.pod} (active)`);
    stepped.add(step.pod);
    await actions.stepDown();
    const after = await waitForState(actions, options, `a server other than ${step.pod} to lead`, (s) => {
      const leader = s.servers.find((x) => x.id === s.leader);
      if (!s.leader || s.leader === step.pod) return `${step.pod} still leads`;
      return leader?.healthy ? true : `${s.leader} leads but is not healthy yet`;
    });
    actions.log(`${after.leader} is active now`);
  }
}

/** The upgrade's Vault calls through the active server (VAULT_ADDR): the admin policy allows each. */
export interface VaultAccess {
  readState(): Promise<AutopilotState>;
  /** The autopilot server_stabilization_time in ms. */
  stabilizationMs(): Promise<number>;
  stepDown(): Promise<void>;
  close(): void;
}

/** Go durations as autopilot writes them ("10s", "1m30s", "500ms"). */
export function durationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  let total = 0;
  let rest = text.trim();
  if (rest === "0") return 0;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/.exec(rest);
    if (!m) throw new Error(`not a duration: ${JSON.stringify(text)}`);
    total += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return total;
}

export function vaultAccess(address: string, token: string, ca?: string | Buffer, servername?: string): VaultAccess {
  const vault = new VaultClient({ address, ca, servername, timeoutMs: 5000 });
  const read = async (path: string) => {
    const data = await vault.read(token, path);
    if (!data) throw new Error(`${path}: not found (is the storage Raft?)`);
    return data;
  };
  return {
    readState: async () => parseAutopilotState(await read("sys/storage/raft/autopilot/state")),
    stabilizationMs: async () => durationMs(String((await read("sys/storage/raft/autopilot/configuration")).server_stabilization_time ?? "10s")),
    stepDown: () => vault.stepDown(token),
    close: () => vault.close(),
  };
}
