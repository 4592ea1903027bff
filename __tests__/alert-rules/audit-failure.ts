// Vault's audit failure counter from a real server. Vault refuses a request and
// counts vault_audit_log_request_failure only when no audit device could log
// it; the shipped configuration declares two (a file and stdout), and the
// stdout device cannot be made to fail here without ending the process (a
// failed write to a closed stdout pipe is fatal in Go). So this is a second,
// single OpenBao server with the shipped file device alone and the shipped
// telemetry stanza: its audit file is swapped for /dev/full (every write fails
// with ENOSPC) and reopened on SIGHUP, as Vault reopens file devices when
// logrotate signals it. Its usage gauges (vault_token_count) are emitted every
// few seconds instead of every 10 minutes (usage_gauge_period), so a scrape
// sees them.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDevServer, type BaoServer } from "../support/bao";
import { jsonLines } from "../support/log-lines";
import { vaultRequest, waitFor } from "../support/vault-http";
import { record } from "./recorder";
import type { Recording } from "./timeline";

export interface AuditRecordings {
  readonly before: Recording;
  readonly failing: Recording;
  /** The status Vault answered a request with while its audit device failed. */
  readonly refusedStatus: number;
  /** The server's JSON log lines before and while its audit device failed (VaultAuditDeviceErrors counts some of them). */
  readonly logLines: { readonly before: Record<string, unknown>[]; readonly failing: Record<string, unknown>[] };
  readonly server: BaoServer;
}

export async function recordAuditFailure(dir: string, where: { cluster: string; namespace: string; pod: string }): Promise<AuditRecordings> {
  mkdirSync(dir, { recursive: true });
  const auditFile = join(dir, "audit.log");
  writeFileSync(auditFile, "");
  const config = [
    // As the shipped configuration logs (stacks/vault-server-settings.ts): JSON lines, which Cloud Logging parses.
    `log_format = "json"`,
    `audit "file" "file" {\n  options {\n    file_path = "${auditFile}"\n    log_raw = "false"\n  }\n}`,
    `telemetry {\n  prometheus_retention_time = "30s"\n  disable_hostname = true\n  usage_gauge_period = "1s"\n}`,
  ].join("\n");
  const { server, rootToken } = await startDevServer(join(dir, "server"), "audit", { config });
  const target = [{ kind: "vault" as const, pod: where.pod, addr: server.addr, ca: server.ca, token: rootToken }];
  const lookup = () => vaultRequest(server.addr, server.ca, "GET", "/v1/auth/token/lookup-self", { token: rootToken });
  const at = { cluster: where.cluster, namespace: where.namespace };

  // Audited requests (their failure counter at 0) and the usage gauges' first emission.
  const before = await waitFor(
    "the audit counter and the usage gauges in the server's telemetry",
    async () => {
      await lookup();
      const { recording } = await record("audit ok", target, at);
      const names = new Set(recording.samples.map((s) => s.name));
      return names.has("vault_audit_log_request_failure") && names.has("vault_token_count") ? recording : undefined;
    },
    30_000,
    250,
  );

  const beforeText = server.output;
  rmSync(auditFile);
  symlinkSync("/dev/full", auditFile);
  process.kill(server.pid as number, "SIGHUP");
  const refused = await waitFor(
    "a request refused for want of an audit device",
    async () => ((await lookup()).status >= 500 ? await lookup() : undefined),
    30_000,
    100,
  );
  const { recording: failing } = await record("audit failing", target, at);
  rmSync(auditFile);
  writeFileSync(auditFile, "");
  const failingText = server.output.slice(beforeText.length);
  return { before, failing, refusedStatus: refused.status, server, logLines: { before: jsonLines(beforeText), failing: jsonLines(failingText) } };
}
