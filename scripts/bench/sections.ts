import { bootstrapBench } from "./bootstrap";
import { failoverBench } from "./failover";
import { synthBench, unitTestBench } from "./synth";

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
];
