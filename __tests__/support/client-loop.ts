// A client that keeps writing and reading back one KV v2 secret while an
// operation runs (a rolling upgrade, a certificate rotation), with the retry
// settings README recommends to clients ("Exposure: how clients reach the
// active server"): those of Vault's and OpenBao's own Go client (VAULT_MAX_RETRIES=2,
// a linear jittered backoff of 1-1.5 s times the attempt, retrying connection
// errors, 412, 429 and 5xx except 501), with a per-attempt timeout of 10 s
// (VAULT_CLIENT_TIMEOUT=10s) instead of the client's 60 s. Connections are
// kept alive and reused, as that client does. It counts what a client would
// see: requests, those that failed after their retries, those that needed a
// retry, and the longest stall.
import { Agent, request } from "node:https";

/** The recommended client settings (README); the loop uses exactly these. */
export const CLIENT_RETRY = {
  /** Retries after the first attempt (VAULT_MAX_RETRIES). */
  maxRetries: 2,
  /** Attempt n waits n times a random time between these (Vault's LinearJitterBackoff). */
  minRetryWaitMs: 1000,
  maxRetryWaitMs: 1500,
  /** Per attempt (VAULT_CLIENT_TIMEOUT). */
  timeoutMs: 10_000,
} as const;

export interface ClientLoopOptions {
  /** Where clients connect (the active proxy's address). */
  readonly addr: string;
  readonly ca: string | Buffer;
  /** The name the server certificate is checked against (as clients use the environment's hostname). @default the address's host */
  readonly servername?: string;
  readonly token: string;
  /** The KV v2 mount, without slashes. */
  readonly mount: string;
  /** The secret's path under the mount. */
  readonly path: string;
  /** A pause between two requests, so the loop is a steady client and not a load test. @default 50 */
  readonly pauseMs?: number;
  /** A new connection (and TLS handshake) for every attempt, like a client without keep-alive: it meets a reloaded certificate at once. @default false */
  readonly newConnections?: boolean;
}

export interface ClientLoopFigures {
  /** Requests made (each write and each read is one, however many attempts it took). */
  readonly requests: number;
  /** Requests that failed after their retries, plus reads that did not return the last write. */
  readonly failed: number;
  /** Requests that needed at least one retry. */
  readonly retried: number;
  /** Attempts beyond the first, summed. */
  readonly retries: number;
  /** The longest time between two consecutive successful requests (ms). */
  readonly longestStallMs: number;
  /** The longest single request, its retries and backoff included (ms). */
  readonly longestRequestMs: number;
  readonly durationMs: number;
  /** What went wrong, one line per failure (the first 20). */
  readonly failures: readonly string[];
}

export interface ClientLoop {
  /** The figures so far, without stopping. */
  figures(): ClientLoopFigures;
  /** Ends the loop after the request in flight and returns the figures. */
  stop(): Promise<ClientLoopFigures>;
}

interface Attempt {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Whether Vault's own client would try again (connection errors have no status: 0). */
export function retryable(status: number): boolean {
  return status === 0 || status === 412 || status === 429 || (status >= 500 && status !== 501);
}

function attempt(agent: Agent, opts: ClientLoopOptions, method: string, path: string, body?: unknown): Promise<Attempt> {
  const url = new URL(path, opts.addr);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method,
        agent,
        timeout: CLIENT_RETRY.timeoutMs,
        headers: {
          "X-Vault-Token": opts.token,
          ...(payload ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", () => resolve({ status: 0, body: { error: "response interrupted" } }));
        res.on("end", () => {
          let parsed: Record<string, unknown> = {};
          try {
            const text = Buffer.concat(chunks).toString("utf8");
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            parsed = {};
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${CLIENT_RETRY.timeoutMs} ms`)));
    req.on("error", (error) => resolve({ status: 0, body: { error: error.message } }));
    if (payload) req.write(payload);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the loop at once; stop() it (afterAll too) to end it. */
export function startClientLoop(opts: ClientLoopOptions): ClientLoop {
  const agent = new Agent({ keepAlive: !opts.newConnections, ca: opts.ca, servername: opts.servername, maxSockets: 1 });
  const dataPath = `/v1/${opts.mount}/data/${opts.path}`;
  const started = Date.now();
  let requests = 0;
  let failed = 0;
  let retried = 0;
  let retries = 0;
  let longestStallMs = 0;
  let longestRequestMs = 0;
  let lastSuccess = started;
  const failures: string[] = [];
  let stopping = false;

  const fail = (line: string): void => {
    failed++;
    if (failures.length < 20) failures.push(`${new Date().toISOString()} ${line}`);
  };

  /** One request with the client's retries; the last attempt's answer. */
  const call = async (method: string, body?: unknown): Promise<Attempt> => {
    requests++;
    const t0 = Date.now();
    let answer = await attempt(agent, opts, method, dataPath, body);
    for (let n = 1; n <= CLIENT_RETRY.maxRetries && retryable(answer.status); n++) {
      if (n === 1) retried++;
      retries++;
      const { minRetryWaitMs: min, maxRetryWaitMs: max } = CLIENT_RETRY;
      await sleep(n * (min + Math.random() * (max - min)));
      answer = await attempt(agent, opts, method, dataPath, body);
    }
    const now = Date.now();
    longestRequestMs = Math.max(longestRequestMs, now - t0);
    if (answer.status >= 200 && answer.status < 300) {
      longestStallMs = Math.max(longestStallMs, now - lastSuccess);
      lastSuccess = now;
    }
    return answer;
  };

  const describe = (a: Attempt): string => `${a.status || "no answer"} ${JSON.stringify(a.body.errors ?? a.body.error ?? "")}`;

  const run = async (): Promise<void> => {
    // Values a read may return: the last acknowledged write, and any write after it whose outcome is unknown.
    let expected: string[] = [];
    for (let n = 1; !stopping; n++) {
      const value = `v${n}`;
      const written = await call("POST", { data: { value } });
      if (written.status >= 200 && written.status < 300) expected = [value];
      else {
        expected.push(value);
        fail(`write ${value}: ${describe(written)}`);
      }
      if (opts.pauseMs !== 0) await sleep(opts.pauseMs ?? 50);
      const read = await call("GET");
      if (read.status === 200) {
        const got = (read.body.data as { data?: { value?: string } } | undefined)?.data?.value;
        if (got === undefined || !expected.includes(got)) fail(`read after write ${value}: got ${JSON.stringify(got)}, expected ${expected.join(" or ")}`);
      } else fail(`read after write ${value}: ${describe(read)}`);
      if (opts.pauseMs !== 0) await sleep(opts.pauseMs ?? 50);
    }
  };

  const figures = (): ClientLoopFigures => ({
    requests,
    failed,
    retried,
    retries,
    // A stall still going on counts too.
    longestStallMs: Math.max(longestStallMs, stopping ? 0 : Date.now() - lastSuccess),
    longestRequestMs,
    durationMs: Date.now() - started,
    failures: [...failures],
  });

  const running = run();
  return {
    figures,
    stop: async () => {
      const last = figures();
      stopping = true;
      await running;
      agent.destroy();
      return { ...figures(), longestStallMs: Math.max(last.longestStallMs, longestStallMs) };
    },
  };
}
