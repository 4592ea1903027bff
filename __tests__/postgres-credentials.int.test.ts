// A real OpenBao issues PostgreSQL credentials to a real PostgreSQL server,
// configured with exactly the connection URL and role statements the tenants
// stack renders (postgresEngineSettings feeds both); revoking the lease
// removes the login.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { postgresEngineSettings } from "../config/postgres-engine-settings";
import { renderTenantPolicy, tenantMountPaths } from "../contract/tenant-policy";
import { startDevServer, stopAllBao, type BaoServer } from "./support/bao";
import { startPostgres, type PostgresServer } from "./support/postgres";
import { vaultRequest } from "./support/vault-http";
import { exampleTenants } from "./helpers";

jest.setTimeout(120_000);

let dir: string;
let pg: PostgresServer;
let bao: BaoServer;
let root: string;
const call = (token: string, method: string, path: string, body?: unknown) => vaultRequest(bao.addr, bao.ca, method, `/v1/${path}`, { token, body });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-pg-"));
  pg = await startPostgres();
  ({ server: bao, rootToken: root } = await startDevServer(join(dir, "bao")));
  expect(pg.psql("postgres", pg.superuser, pg.password, "CREATE DATABASE payments").ok).toBe(true);
  expect(pg.psql("payments", pg.superuser, pg.password, "CREATE TABLE orders (id int); INSERT INTO orders VALUES (1)").ok).toBe(true);
});

afterAll(async () => {
  await stopAllBao();
  pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it("issues working credentials and revokes them with the lease", async () => {
  // The example tenant's settings, with what this machine needs instead: the local
  // server's host, port and admin user, and sslmode disable (loopback PostgreSQL has no TLS).
  const tenant = exampleTenants().find((t) => t.name === "payments");
  const conf = tenant?.engines.postgres;
  if (!conf) throw new Error("the example tenant payments has no postgres engine");
  const settings = postgresEngineSettings({
    host: "127.0.0.1",
    port: pg.port,
    database: conf.database,
    username: pg.superuser,
    schema: conf.schema,
    access: conf.access,
    sslMode: "disable",
    defaultTtlSec: conf.defaultTtl,
    maxTtlSec: conf.maxTtl,
  });
  const mount = tenantMountPaths("payments").database;
  expect((await call(root, "POST", `sys/mounts/${mount}`, { type: "database" })).status).toBe(204);
  const connection = await call(root, "POST", `${mount}/config/${settings.connectionName}`, {
    plugin_name: settings.pluginName,
    connection_url: settings.connectionUrl,
    username: pg.superuser,
    password: pg.password,
    allowed_roles: [settings.roleName],
    verify_connection: true,
  });
  expect([connection.status, connection.body.errors]).toEqual([204, undefined]);
  const role = await call(root, "POST", `${mount}/roles/${settings.roleName}`, {
    db_name: settings.connectionName,
    creation_statements: settings.creationStatements,
    revocation_statements: settings.revocationStatements,
    default_ttl: settings.defaultTtlSec,
    max_ttl: settings.maxTtlSec,
  });
  expect(role.status).toBe(204);

  // The tenant reads credentials with its own policy, as its pods would.
  await call(root, "PUT", "sys/policies/acl/tenant-payments", { policy: renderTenantPolicy({ tenant: "payments", databaseRoles: [settings.roleName] }) });
  const tenantToken = String(
    ((await call(root, "POST", "auth/token/create", { policies: ["tenant-payments"], ttl: "10m" })).body.auth as { client_token: string }).client_token,
  );
  const creds = await call(tenantToken, "GET", `${mount}/creds/${settings.roleName}`);
  expect(creds.status).toBe(200);
  expect(creds.body.lease_duration).toBe(900);
  const { username, password } = creds.body.data as { username: string; password: string };

  const login = pg.psql("payments", username, password, "SELECT count(*) FROM orders; INSERT INTO orders VALUES (2);");
  expect(login).toEqual({ ok: true, output: expect.stringMatching(/^1\b/) });

  expect((await call(root, "PUT", "sys/leases/revoke", { lease_id: creds.body.lease_id })).status).toBe(204);
  const refused = pg.psql("payments", username, password, "SELECT 1");
  expect(refused.ok).toBe(false);
  expect(refused.output).toMatch(/password authentication failed|does not exist/);
});
