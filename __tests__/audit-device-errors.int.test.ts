// VaultAuditDeviceErrors reads a log-based metric because OpenBao counts no
// failure of one audit device: with the shipped pair (a file and stdout), a
// full audit disk leaves requests served and no metric moved. Replayed on
// both distributions (integration and integration-vault): the file device
// writes to /dev/full, stdout still logs, and the platform stack's own
// filter must match the server's JSON log lines then, and none before.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AUDIT_DEVICES } from "../contract/audit-devices";
import { DISTRIBUTION, serverEnvVar, startDevServer, stopAllBao, type BaoServer } from "./support/bao";
import { jsonLines, matchingLines, payloadClauses } from "./support/log-lines";
import { vaultRequest, waitFor } from "./support/vault-http";
import { exampleEnv, resource, synthEnvironment } from "./helpers";

jest.setTimeout(60_000);

let dir: string;
let server: BaoServer;
let root: string;
const auditFile = () => join(dir, "audit.log");

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-audit-errors-"));
  writeFileSync(auditFile(), "");
  // The shipped devices: OpenBao declares them in its configuration; on Vault the sidecar enables them through the API.
  const devices = AUDIT_DEVICES.map((d) => ({ path: d.path, filePath: d.filePath === "stdout" ? "stdout" : auditFile() }));
  const stanzas = devices.map((d) => `audit "file" "${d.path}" {\n  options {\n    file_path = "${d.filePath}"\n    log_raw = "false"\n  }\n}`);
  // JSON lines as the shipped configuration logs them, set through the environment: Vault 1.21.4 in dev mode
  // panics on SIGHUP when its -config file has no storage (a dev-mode quirk; the shipped file has one).
  const env = { [serverEnvVar("LOG_FORMAT")]: "json" };
  mkdirSync(join(dir, "server"));
  ({ server, rootToken: root } = await startDevServer(
    join(dir, "server"),
    "audit",
    DISTRIBUTION === "openbao" ? { config: stanzas.join("\n"), env } : { env },
  ));
  if (DISTRIBUTION === "vault")
    for (const d of devices) {
      const res = await vaultRequest(server.addr, server.ca, "PUT", `/v1/sys/audit/${d.path}`, {
        token: root,
        body: { type: "file", options: { file_path: d.filePath } },
      });
      expect([d.path, res.status]).toEqual([d.path, 204]);
    }
});

afterAll(async () => {
  await stopAllBao();
  rmSync(dir, { recursive: true, force: true });
});

/** The `jsonPayload` clauses of the platform stack's audit errors metric. */
function filterClauses(): Record<string, string> {
  const metric = resource(synthEnvironment(exampleEnv()).platform, "google_logging_metric", "audit-errors") as { filter: string };
  return payloadClauses(metric.filter);
}

const matching = (text: string, clauses: Record<string, string>) => matchingLines(jsonLines(text), clauses);

it("matches the server's audit error lines while one device fails and the other still logs (requests served), and none before", async () => {
  const clauses = filterClauses();
  const ca = server.ca;
  const lookup = () => vaultRequest(server.addr, ca, "GET", "/v1/auth/token/lookup-self", { token: root });
  expect((await lookup()).status).toBe(200);
  expect(matching(server.output, clauses)).toEqual([]);

  const before = server.output.length;
  rmSync(auditFile());
  symlinkSync("/dev/full", auditFile());
  // As logrotate signals it: the file device reopens its file (now a full disk).
  process.kill(server.pid as number, "SIGHUP");
  const lines = await waitFor(
    "audit error lines in the server's log",
    async () => {
      // The stdout device still logs every request: Vault serves it.
      expect((await lookup()).status).toBe(200);
      const found = matching(server.output.slice(before), clauses);
      return found.length > 0 ? found : undefined;
    },
    30_000,
    200,
  );
  expect(lines[0]).toMatchObject({ "@module": "audit", "@level": "error" });
  expect(String(lines[0]["@message"])).toMatch(DISTRIBUTION === "vault" ? /underlying pipeline error/ : /failed to log/);
});
