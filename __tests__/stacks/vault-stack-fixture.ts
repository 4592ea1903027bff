// Shared by the vault-stack*.test.ts files: the example environment synthesized once per file, and readers of its
// vault stack's resources.
import { exampleEnv, resource, resources, synthEnvironment, type SynthResult, type TfJson } from "../helpers";

export type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export let synth: SynthResult;

/** Synthesizes the example environment before the calling file's tests (call once at its top level). */
export function synthExampleOnce(): void {
  beforeAll(() => {
    synth = synthEnvironment(exampleEnv());
  });
}

export const vault = () => synth.vault;
export const sts = (tf: TfJson = vault()) => resource(tf, "kubernetes_stateful_set_v1") as Obj;
export const podSpec = (tf?: TfJson) => sts(tf).spec.template.spec as Obj;
export const container = (name: string, tf?: TfJson) => (podSpec(tf).container as Obj[]).find((c) => c.name === name) as Obj;
export const serverConfig = (tf: TfJson = vault()) => (resource(tf, "kubernetes_config_map_v1", "vault_config") as Obj).data["vault.hcl"] as string;
export const service = (name: string, tf: TfJson = vault()) =>
  resources(tf, "kubernetes_service_v1")
    .map(([, r]) => r as Obj)
    .find((s) => s.metadata.name === name) as Obj;
