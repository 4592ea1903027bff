import { GcsBackend, type TerraformStack } from "cdktf";
import { statePrefix } from "../config/names";
import type { EnvironmentConfig } from "../config/schema";

/** Each stack keeps its state under <backend.prefix>/<stack name> of the environment's state bucket. */
export function useGcsBackend(stack: TerraformStack, env: EnvironmentConfig, stackName: string): GcsBackend {
  return new GcsBackend(stack, { bucket: env.backend.bucket, prefix: statePrefix(env, stackName) });
}
