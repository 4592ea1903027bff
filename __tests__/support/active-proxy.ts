// A loopback stand-in for how clients reach the active server in the cluster:
// the `vault-active` Service behind the passthrough load balancer (or a TLS
// passthrough route). It works at layer 4, like they do: it copies bytes and
// TLS still ends at Vault, so clients verify the servers' own certificate.
//
// In the cluster, Kubernetes service registration labels the active pod
// `vault-active=true` and the endpoints controller and kube-proxy follow that
// label within about a second. Here a poll of every server's /v1/sys/health
// every ~500 ms stands in for that label-to-endpoints update: each new
// connection goes to the server that answered 200 (active, unsealed) at the
// last poll. A connection already open stays with the server it reached, as
// kube-proxy's connection tracking keeps it; a standby forwards such requests
// to the active server. With no active server known, a new connection is
// refused (closed at once), as a Service without endpoints does.
import { createServer, connect, type Server, type Socket } from "node:net";
import { freePort } from "./ports";
import { vaultRequest } from "./vault-http";

export interface ProxiedServer {
  readonly addr: string;
  readonly ca: string | Buffer;
}

export interface ActiveProxy {
  /** https://127.0.0.1:<port>: what clients use as VAULT_ADDR. */
  readonly addr: string;
  readonly port: number;
  /** The server new connections go to now, if any. */
  readonly active: string | undefined;
  /** How many times the target changed (a new active server taken up, or none found). */
  readonly switches: number;
  stop(): Promise<void>;
}

export interface ActiveProxyOptions {
  /** How often every server's health is polled. @default 500 */
  readonly pollMs?: number;
}

const HEALTH_TIMEOUT_MS = 1000;

/** Starts the proxy on a free loopback port; call stop() (afterAll) to close it and every connection it holds. */
export async function startActiveProxy(servers: readonly ProxiedServer[], options: ActiveProxyOptions = {}): Promise<ActiveProxy> {
  const pollMs = options.pollMs ?? 500;
  const sockets = new Set<Socket>();
  let target: ProxiedServer | undefined;
  let switches = 0;
  let stopped = false;

  const poll = async (): Promise<void> => {
    const answers = await Promise.all(
      servers.map(async (s) => {
        try {
          return (await vaultRequest(s.addr, s.ca, "GET", "/v1/sys/health", { timeoutMs: HEALTH_TIMEOUT_MS })).status === 200;
        } catch {
          return false;
        }
      }),
    );
    // Two servers answering 200 cannot last (the old active steps down); keep the current one until then.
    const active = servers.filter((_, i) => answers[i]);
    const next = target && active.includes(target) ? target : active[0];
    if (next !== target) switches++;
    target = next;
  };

  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> = Promise.resolve();
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      polling = poll().finally(schedule);
    }, pollMs);
  };
  // The first poll before accepting: a client that starts right away finds the active server.
  await poll();
  schedule();

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const server: Server = createServer((client) => {
    track(client);
    const to = target;
    if (!to) {
      client.destroy();
      return;
    }
    const url = new URL(to.addr);
    const upstream = connect(Number(url.port), url.hostname);
    track(upstream);
    // Either side closing or failing closes the other, as a reset through the load balancer would.
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });

  return {
    addr: `https://127.0.0.1:${port}`,
    port,
    get active() {
      return target?.addr;
    },
    get switches() {
      return switches;
    },
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await polling.catch(() => undefined);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
