// The rolling upgrade's planner (pure) and its driver against a simulated
// cluster: which step comes next, what makes it refuse, and the order it takes;
// and the command's answers to bad usage.
import { spawnSync } from "node:child_process";
import {
  describePlan,
  durationMs,
  nextStep,
  parseAutopilotState,
  runRollingUpgrade,
  safetyProblems,
  UpgradeStopped,
  type AutopilotServer,
  type AutopilotState,
} from "../commands/rolling-upgrade-plan";
import { commandArgs } from "./helpers";

const PODS = ["vault-0", "vault-1", "vault-2"];

function server(id: string, over: Partial<AutopilotServer> = {}): AutopilotServer {
  return { id, status: "voter", healthy: true, version: "2.7.1", lastContact: "100ms", ...over };
}

function state(over: Partial<AutopilotState> = {}, servers = PODS.map((id) => server(id, id === "vault-1" ? { status: "leader" } : {}))): AutopilotState {
  return { healthy: true, failureTolerance: 1, leader: "vault-1", servers, ...over };
}

describe("parseAutopilotState", () => {
  it("reads the state endpoint's data, servers sorted by id", () => {
    const parsed = parseAutopilotState({
      healthy: true,
      failure_tolerance: 1,
      leader: "vault-0",
      servers: {
        "vault-1": { id: "vault-1", status: "voter", healthy: true, version: "2.7.2", last_contact: "1.2s" },
        "vault-0": { id: "vault-0", status: "leader", healthy: true, version: "2.7.2", last_contact: "0s" },
      },
    });
    expect(parsed).toEqual({
      healthy: true,
      failureTolerance: 1,
      leader: "vault-0",
      servers: [
        { id: "vault-0", status: "leader", healthy: true, version: "2.7.2", lastContact: "0s" },
        { id: "vault-1", status: "voter", healthy: true, version: "2.7.2", lastContact: "1.2s" },
      ],
    });
  });

  it("takes a missing field as unhealthy and unknown", () => {
    expect(parseAutopilotState({})).toEqual({ healthy: false, failureTolerance: 0, leader: "", servers: [] });
  });
});

describe("safetyProblems: refusing to start", () => {
  it("finds none in a whole cluster", () => {
    expect(safetyProblems(state(), { pods: PODS })).toEqual([]);
  });

  it("names a pod missing from autopilot's state", () => {
    const s = state({ failureTolerance: 0 }, [server("vault-0"), server("vault-1", { status: "leader" })]);
    const problems = safetyProblems(s, { pods: PODS });
    expect(problems[0]).toMatch(/^vault-2 is not in autopilot's state \(it knows vault-0, vault-1\): let the pod start, unseal and join Raft/);
    expect(problems[1]).toMatch(/failure tolerance is 0: restarting any server would stop the cluster/);
  });

  it("names an unhealthy server and a non-voter, with what to do", () => {
    const s = state({ healthy: false }, [
      server("vault-0", { healthy: false, lastContact: "12s" }),
      server("vault-1", { status: "leader" }),
      server("vault-2", { status: "non-voter" }),
    ]);
    expect(safetyProblems(s, { pods: PODS })).toEqual([
      `vault-0 is unhealthy in autopilot's state (last contact 12s): wait for it or repair it first (operator guide: "Recovering a lost pod")`,
      "vault-2 is a non-voter, not a voter: wait until autopilot promotes it",
    ]);
  });

  it("refuses at failure tolerance 0 even when every server is healthy (a single server, or two)", () => {
    const s = state({ failureTolerance: 0 }, [server("vault-0", { status: "leader" })]);
    expect(safetyProblems(s, { pods: ["vault-0"] })).toEqual([expect.stringMatching(/^autopilot's failure tolerance is 0/)]);
  });

  it("names a server autopilot knows that is no pod, and a cluster autopilot calls unhealthy for no named reason", () => {
    const extra = state({}, [...state().servers, server("vault-3")]);
    expect(safetyProblems(extra, { pods: PODS })).toEqual([expect.stringMatching(/^autopilot knows vault-3, which no pod of the StatefulSet is/)]);
    expect(safetyProblems(state({ healthy: false }), { pods: PODS })).toEqual([expect.stringMatching(/^autopilot reports the cluster unhealthy/)]);
    expect(safetyProblems(state({ leader: "" }), { pods: PODS })).toEqual([expect.stringMatching(/^autopilot names no leader/)]);
  });
});

describe("nextStep", () => {
  it("restarts the standbys in name order, then steps the active down, then restarts it", () => {
    expect(nextStep(state(), new Set(), { pods: PODS })).toEqual({ kind: "restart", pod: "vault-0" });
    expect(nextStep(state(), new Set(["vault-0"]), { pods: PODS })).toEqual({ kind: "restart", pod: "vault-2" });
    expect(nextStep(state(), new Set(["vault-0", "vault-2"]), { pods: PODS })).toEqual({ kind: "step-down", pod: "vault-1" });
    const after = state({ leader: "vault-0" }, [server("vault-0", { status: "leader" }), server("vault-1"), server("vault-2")]);
    expect(nextStep(after, new Set(["vault-0", "vault-2"]), { pods: PODS })).toEqual({ kind: "restart", pod: "vault-1" });
    expect(nextStep(after, new Set(PODS), { pods: PODS })).toEqual({ kind: "done" });
  });

  it("waits instead of restarting while the cluster is not whole", () => {
    const step = nextStep(state({ failureTolerance: 0 }), new Set(), { pods: PODS });
    expect(step.kind).toBe("wait");
  });

  it("with a target version, leaves the servers already on it alone", () => {
    const s = state({}, [server("vault-0", { version: "2.7.2" }), server("vault-1", { status: "leader" }), server("vault-2")]);
    expect(nextStep(s, new Set(), { pods: PODS, targetVersion: "2.7.2" })).toEqual({ kind: "restart", pod: "vault-2" });
    const all = state(
      {},
      PODS.map((id) => server(id, { version: "2.7.2", status: id === "vault-1" ? "leader" : "voter" })),
    );
    expect(nextStep(all, new Set(), { pods: PODS, targetVersion: "2.7.2" })).toEqual({ kind: "done" });
  });
});

describe("describePlan (--dry-run)", () => {
  it("lists the standbys, the step-down and the active's restart", () => {
    expect(describePlan(state(), { pods: PODS, targetVersion: "2.7.2" })).toEqual([
      "restart vault-0 (standby), wait until it is unsealed, a healthy voter on 2.7.2 and stable",
      "restart vault-2 (standby), wait until it is unsealed, a healthy voter on 2.7.2 and stable",
      "step down vault-1 (active), wait until another server leads and is healthy",
      "restart vault-1, wait until it is unsealed, a healthy voter on 2.7.2 and stable",
    ]);
  });

  it("says which servers it leaves", () => {
    const s = state({}, [server("vault-0", { version: "2.7.2" }), server("vault-1", { status: "leader", version: "2.7.2" }), server("vault-2")]);
    expect(describePlan(s, { pods: PODS, targetVersion: "2.7.2" })).toEqual([
      "restart vault-2 (standby), wait until it is unsealed, a healthy voter on 2.7.2 and stable",
      "leave vault-0, vault-1: already on 2.7.2",
    ]);
  });
});

it("reads Go durations as autopilot writes them", () => {
  expect(durationMs("10s")).toBe(10_000);
  expect(durationMs("1m30s")).toBe(90_000);
  expect(durationMs("500ms")).toBe(500);
  expect(durationMs("0")).toBe(0);
  expect(() => durationMs("ten")).toThrow('not a duration: "ten"');
});

/** A cluster whose autopilot state follows restarts and step-downs; a restarted server is unhealthy for `downReads` reads. */
function simulated(start: AutopilotState, version: string, downReads = 2) {
  let current = start;
  const events: string[] = [];
  const down = new Map<string, number>();
  const put = (id: string, over: Partial<AutopilotServer>) =>
    (current = { ...current, servers: current.servers.map((s) => (s.id === id ? { ...s, ...over } : s)) });
  return {
    events,
    actions: {
      readState: async () => {
        for (const [id, n] of down) {
          if (n === 0) {
            put(id, { healthy: true, version });
            down.delete(id);
          } else down.set(id, n - 1);
        }
        const healthy = current.servers.every((s) => s.healthy);
        return { ...current, healthy, failureTolerance: healthy ? 1 : 0 };
      },
      stepDown: async () => {
        events.push(`step-down ${current.leader}`);
        const next = current.servers.find((s) => s.id !== current.leader)!.id;
        put(current.leader, { status: "voter" });
        put(next, { status: "leader" });
        current = { ...current, leader: next };
      },
      restart: async (pod: string) => {
        events.push(`restart ${pod}`);
        put(pod, { healthy: false });
        down.set(pod, downReads);
      },
      log: () => undefined,
    },
  };
}

describe("runRollingUpgrade", () => {
  it("restarts the standbys one at a time and the active last, after a step-down, each once healthy on the target again", async () => {
    const sim = simulated(state(), "2.7.2");
    const order = await runRollingUpgrade(sim.actions, { pods: PODS, targetVersion: "2.7.2", stableMs: 0, waitMs: 5000, pollMs: 1 });
    expect(order).toEqual(["vault-0", "vault-2", "vault-1"]);
    expect(sim.events).toEqual(["restart vault-0", "restart vault-2", "step-down vault-1", "restart vault-1"]);
  });

  it("restarts the old active after its step-down even when the new leader reports it on the target already (before its first heartbeat)", async () => {
    const sim = simulated(state(), "2.7.2");
    const stepDown = sim.actions.stepDown;
    const reads = sim.actions.readState;
    let misreport = false;
    sim.actions.stepDown = async () => {
      await stepDown();
      misreport = true;
    };
    // The new leader shows every follower on its own version (the old active included, still on 2.7.1).
    sim.actions.readState = async () => {
      const s = await reads();
      return misreport ? { ...s, servers: s.servers.map((x) => ({ ...x, version: "2.7.2" })) } : s;
    };
    const order = await runRollingUpgrade(sim.actions, { pods: PODS, targetVersion: "2.7.2", stableMs: 0, waitMs: 5000, pollMs: 1 });
    expect(sim.events).toEqual(["restart vault-0", "restart vault-2", "step-down vault-1", "restart vault-1"]);
    expect(order).toEqual(["vault-0", "vault-2", "vault-1"]);
  });

  it("refuses to start, restarting nothing, when a server is unhealthy", async () => {
    const sim = simulated(
      state({ healthy: false }, [server("vault-0", { healthy: false }), server("vault-1", { status: "leader" }), server("vault-2")]),
      "2.7.2",
    );
    await expect(runRollingUpgrade(sim.actions, { pods: PODS, stableMs: 0, waitMs: 100, pollMs: 1 })).rejects.toThrow(
      /^refusing to start:\n {2}vault-0 is unhealthy in autopilot's state/,
    );
    expect(sim.events).toEqual([]);
  });

  it("stops with what it waited for when a restarted server does not come back", async () => {
    const sim = simulated(state(), "2.7.2", Number.MAX_SAFE_INTEGER);
    const run = runRollingUpgrade(sim.actions, { pods: PODS, stableMs: 0, waitMs: 50, pollMs: 1 });
    await expect(run).rejects.toBeInstanceOf(UpgradeStopped);
    await expect(run).rejects.toThrow(/gave up after 0 s waiting for vault-0 to be back as a stable healthy voter: vault-0 is not healthy yet/);
    expect(sim.events).toEqual(["restart vault-0"]);
  });
});

describe("npm run rolling-upgrade: bad usage, before any Vault or kubectl call", () => {
  /** Exit 2, nothing on stdout, one message and no stack trace. */
  function failure(args: string[], env: Record<string, string> = {}): string {
    const run = spawnSync(process.execPath, [...commandArgs("rolling-upgrade"), ...args], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", VAULT_TOKEN: "not-used", VAULT_ADDR: "https://127.0.0.1:1", ...env },
    });
    expect([run.status, run.stdout]).toEqual([2, ""]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    return run.stderr;
  }

  it.each([
    ["no environment", [], /^rolling-upgrade: no environment given; usage: npm run --silent rolling-upgrade -- <environment> \[--dry-run\]/],
    ["an unknown environment", ["nope"], /^rolling-upgrade: no environment "nope" in .*; use one of example\n$/],
    ["an unknown option", ["example", "--force"], /^rolling-upgrade: unknown option "--force"; usage:/],
    ["an option without its value", ["example", "--target-version"], /^rolling-upgrade: --target-version needs a value, got nothing; usage:/],
  ])("fails on %s, naming it and the fix", (_, args, message) => {
    expect(failure(args)).toMatch(message);
  });

  it("fails without a token, saying which token to use", () => {
    expect(failure(["example", "--dry-run"], { VAULT_TOKEN: "" })).toBe(
      "rolling-upgrade: VAULT_TOKEN is not set; use an admin token (it reads autopilot's state and may step down)\n",
    );
  });

  it("fails on a VAULT_CACERT it cannot read, naming the file and the fix", () => {
    expect(failure(["example", "--dry-run"], { VAULT_CACERT: "/nonexistent/ca.pem" })).toBe(
      "rolling-upgrade: VAULT_CACERT: cannot read /nonexistent/ca.pem (ENOENT); point it at Vault's CA certificate\n",
    );
  });
});
