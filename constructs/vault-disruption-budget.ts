import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import { Construct } from "constructs";
import { VAULT_POD_LABELS } from "./vault-naming";

export interface VaultDisruptionBudgetProps {
  readonly namespace: string;
  readonly replicas: number;
}

/** The most servers a Raft cluster of n can lose and keep its quorum: floor((n-1)/2). */
export function maxUnavailableFor(replicas: number): number {
  return Math.floor((replicas - 1) / 2);
}

/** Voluntary disruptions (node drains, upgrades) never take Raft below quorum. */
export class VaultDisruptionBudget extends Construct {
  readonly budget: PodDisruptionBudgetV1;

  constructor(scope: Construct, id: string, props: VaultDisruptionBudgetProps) {
    super(scope, id);
    this.budget = new PodDisruptionBudgetV1(this, "budget", {
      metadata: { name: "vault", namespace: props.namespace },
      spec: { maxUnavailable: String(maxUnavailableFor(props.replicas)), selector: { matchLabels: { ...VAULT_POD_LABELS } } },
    });
  }
}
