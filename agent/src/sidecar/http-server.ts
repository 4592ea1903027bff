// The sidecar's small HTTP endpoint: liveness (the loop still turns),
// readiness (the endpoint answers: the sidecar never gates the pod's readiness
// on Vault's state, Vault's own probe does), its state and last diagnosis as
// JSON, and Prometheus metrics. Nothing it serves is secret.
import { createServer, type Server } from "node:http";
import type { SidecarStatus } from "./status";

export interface StatusServerOptions {
  readonly port: number;
  /** @default "0.0.0.0" (the kubelet probes the pod's address) */
  readonly host?: string;
  /** The loop is considered stuck after this long without a turn. */
  readonly staleAfterMs: number;
}

export function startStatusServer(status: SidecarStatus, options: StatusServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://sidecar").pathname;
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { "Content-Type": type, "Cache-Control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET") return send(405, "text/plain", "GET only\n");
    switch (path) {
      case "/livez": {
        const stale = status.sinceHeartbeatMs > options.staleAfterMs;
        return send(stale ? 503 : 200, "text/plain", stale ? `loop stuck for ${status.sinceHeartbeatMs} ms\n` : "ok\n");
      }
      case "/readyz":
        return send(200, "text/plain", "ok\n");
      case "/state":
        return send(200, "application/json", `${JSON.stringify(status.snapshot())}\n`);
      case "/metrics":
        void status.registry.metrics().then(
          (text) => send(200, status.registry.contentType, text),
          () => send(500, "text/plain", "metrics failed\n"),
        );
        return;
      default:
        return send(404, "text/plain", "not found\n");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => resolve(server));
  });
}
