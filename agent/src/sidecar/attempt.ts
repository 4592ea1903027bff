// One step of maintenance, run so that its failure is logged and counted
// under the step's name, and never stops the steps after it.
import type { ManagedToken } from "./maintenance-plan";
import type { Context } from "./state";

/** Runs `run`; on failure logs it, counts it under `step`, forgets the cached checks and returns false. */
export async function attempt(ctx: Context, step: string, run: () => Promise<boolean>, token?: ManagedToken): Promise<boolean> {
  try {
    return await run();
  } catch (error) {
    ctx.status.failed(step);
    ctx.log.warn({ task: step, token, err: { message: (error as Error).message } }, "maintenance step failed; retrying later");
    ctx.state.forgetChecks();
    return false;
  }
}
