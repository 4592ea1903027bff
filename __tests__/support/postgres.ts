// A real PostgreSQL server (Debian's package, installed by `npm run tools`) on
// a free loopback port. PostgreSQL refuses to run as root, so as root the
// server runs as the unprivileged `postgres` user the package creates.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports";

export function postgresBinDir(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error("PostgreSQL is not installed: run `npm run tools` (it installs Debian's postgresql package)");
  return join(base, versions[0], "bin");
}

export interface PostgresServer {
  readonly port: number;
  readonly superuser: string;
  readonly password: string;
  psql(database: string, user: string, password: string, sql: string): { ok: boolean; output: string };
  stop(): void;
}

/** Starts a server in a fresh temporary folder of its own (owned by the server's user); stop() removes it. */
export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), "vault-gke-postgres-"));
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const full = asRoot ? ["runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]] : [join(bin, cmd), args];
    return execFileSync(full[0] as string, full[1] as string[], { stdio: "pipe", cwd: dir });
  };
  const data = join(dir, "data");
  const superuser = "vault_admin";
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  writeFileSync(join(dir, "pwfile"), `${password}\n`);
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
    chownSync(join(dir, "pwfile"), uid, gid);
    chmodSync(dir, 0o700);
  }
  run("initdb", ["-D", data, "-U", superuser, "--auth=scram-sha-256", `--pwfile=${join(dir, "pwfile")}`, "--no-instructions"]);
  const port = await freePort();
  run("pg_ctl", ["-D", data, "-w", "-t", "30", "-l", join(dir, "log"), "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, "start"]);
  const psql = (database: string, user: string, pw: string, sql: string) => {
    const res = spawnSync(join(bin, "psql"), ["-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql], {
      env: { PATH: process.env.PATH, PGPASSWORD: pw, PGCONNECT_TIMEOUT: "5" },
      encoding: "utf8",
    });
    return { ok: res.status === 0, output: `${res.stdout}${res.stderr}`.trim() };
  };
  return {
    port,
    superuser,
    password,
    psql,
    stop: () => {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "stop"]);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
