// The walks of construct-validation-walk.test.ts whose throw the tenant file's schema or loader keeps every
// valid tenant from: each case trips the throw, then names the loader's refusal (field, value and fix).
import { postgresEngineSettings } from "../../config/postgres-engine-settings";
import { VaultTenant } from "../../constructs/vault-tenant";
import { postgres, stack, tenant, type WalkBy } from "./validation-walk-fixture";

export const TENANT_REFUSED: WalkBy<"tenant file">[] = [
  {
    file: "constructs/vault-tenant.ts",
    throws: "cannot exceed tokenMaxTtlSec",
    trip: () => new VaultTenant(stack(), "t", { ...tenant, tokenTtlSec: 3600, tokenMaxTtlSec: 1800 }),
    message: /tokenTtlSec \(3600\) cannot exceed tokenMaxTtlSec \(1800\)/,
    unreachable: {
      by: "tenant file",
      overrides: { tokenTtl: "45m", tokenMaxTtl: "30m" },
      field: "tokenTtl",
      says: "got 45m; it cannot exceed tokenMaxTtl (30m)",
    },
  },
  {
    file: "constructs/vault-tenant.ts",
    throws: "must each list at least one name",
    trip: () => new VaultTenant(stack(), "t", { ...tenant, serviceAccounts: [] }),
    message: /serviceAccounts and namespaces must each list at least one name/,
    unreachable: { by: "tenant file", overrides: { serviceAccounts: [] }, field: "serviceAccounts", says: "list at least one service account; got []" },
  },
  {
    file: "constructs/vault-tenant.ts",
    throws: "audience is empty",
    trip: () => new VaultTenant(stack(), "t", { ...tenant, audience: " " }),
    message: /audience is empty/,
    unreachable: { by: "tenant file", overrides: { audience: " " }, field: "audience", says: 'got " "; an audience has no spaces; for example vault' },
  },
  {
    file: "config/postgres-engine-settings.ts",
    throws: "cannot exceed maxTtlSec",
    trip: () => postgresEngineSettings({ ...postgres, defaultTtlSec: 7200 }),
    message: /defaultTtlSec \(7200\) cannot exceed maxTtlSec \(3600\)/,
    unreachable: {
      by: "tenant file",
      overrides: { engines: { postgres: { host: "db", database: "d", username: "u", defaultTtl: "30m", maxTtl: "20m" } } },
      field: "engines.postgres.defaultTtl",
      says: "got 30m; it cannot exceed engines.postgres.maxTtl (20m)",
    },
  },
];
