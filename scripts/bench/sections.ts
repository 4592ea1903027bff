import { atlantisHookBench } from "./atlantis-hook";
import { bootstrapBench } from "./bootstrap";
import { failoverBench } from "./failover";
import { pullRequestBench } from "./pull-request";
import { snapshotBench } from "./snapshot";
import { synthBench, unitTestBench } from "./synth";
import { tenantsBench } from "./tenants";

export interface Benchmark {
  readonly name: string;
  /** Returns the Markdown section. */
  run(root: string): Promise<string>;
}

export const benchmarks: Benchmark[] = [
  { name: "synth", run: synthBench },
  { name: "unit-tests", run: unitTestBench },
  { name: "failover", run: failoverBench },
  { name: "bootstrap", run: bootstrapBench },
  { name: "tenants", run: tenantsBench },
  { name: "snapshot", run: snapshotBench },
  { name: "atlantis-hook", run: atlantisHookBench },
  { name: "pull-request", run: pullRequestBench },
];
