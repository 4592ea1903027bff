// The database secrets engine settings for a tenant's PostgreSQL: a pure
// function that feeds both the tenants stack and the test that configures a
// real OpenBao against a real PostgreSQL with the same values.

import type { TenantConfig } from "./tenant-schema";

export interface PostgresEngineProps {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly username: string;
  readonly schema: string;
  readonly access: "readonly" | "readwrite";
  readonly sslMode: "disable" | "require" | "verify-ca" | "verify-full";
  readonly defaultTtlSec: number;
  readonly maxTtlSec: number;
}

export interface PostgresEngineSettings {
  readonly pluginName: "postgresql-database-plugin";
  readonly connectionName: "postgres";
  readonly roleName: "app";
  /** Vault fills {{username}} and {{password}} from the connection's own credentials. */
  readonly connectionUrl: string;
  readonly creationStatements: string[];
  readonly revocationStatements: string[];
  readonly defaultTtlSec: number;
  readonly maxTtlSec: number;
}

/** A tenant file's engines.postgres as the engine's props: what the tenant stack applies and the verifier expects. */
export function postgresEngineProps(pg: NonNullable<TenantConfig["engines"]["postgres"]>): PostgresEngineProps {
  return {
    host: pg.host,
    port: pg.port,
    database: pg.database,
    username: pg.username,
    schema: pg.schema,
    access: pg.access,
    sslMode: pg.sslMode,
    defaultTtlSec: pg.defaultTtl,
    maxTtlSec: pg.maxTtl,
  };
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

export function postgresEngineSettings(props: PostgresEngineProps): PostgresEngineSettings {
  if (props.defaultTtlSec > props.maxTtlSec) throw new Error(`defaultTtlSec (${props.defaultTtlSec}) cannot exceed maxTtlSec (${props.maxTtlSec})`);
  const privileges = props.access === "readwrite" ? "SELECT, INSERT, UPDATE, DELETE" : "SELECT";
  const db = ident(props.database);
  const schema = ident(props.schema);
  return {
    pluginName: "postgresql-database-plugin",
    connectionName: "postgres",
    roleName: "app",
    connectionUrl: `postgresql://{{username}}:{{password}}@${props.host}:${props.port}/${encodeURIComponent(props.database)}?sslmode=${props.sslMode}`,
    creationStatements: [
      `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
      `GRANT CONNECT ON DATABASE ${db} TO "{{name}}";`,
      `GRANT USAGE ON SCHEMA ${schema} TO "{{name}}";`,
      `GRANT ${privileges} ON ALL TABLES IN SCHEMA ${schema} TO "{{name}}";`,
    ],
    revocationStatements: [
      `REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA ${schema} FROM "{{name}}";`,
      `REVOKE USAGE ON SCHEMA ${schema} FROM "{{name}}";`,
      `REVOKE CONNECT ON DATABASE ${db} FROM "{{name}}";`,
      `DROP ROLE IF EXISTS "{{name}}";`,
    ],
    defaultTtlSec: props.defaultTtlSec,
    maxTtlSec: props.maxTtlSec,
  };
}
