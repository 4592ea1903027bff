import { createServer } from "node:net";

// Ports come from below the kernel's ephemeral range (32768-60999 on Linux),
// one slice per jest worker. A port the kernel hands out for `listen(0)` is
// from that range, and so is every outgoing connection's source port: on a
// busy machine another connection could take it between the check and the
// server's bind. Below it, and apart from other workers, only this worker's
// own servers use it.
const FIRST = 20_000;
const LAST = 32_767;
const WORKERS = 4;
const worker = (Number(process.env.JEST_WORKER_ID ?? "1") - 1) % WORKERS;
const SLICE = Math.floor((LAST - FIRST + 1) / WORKERS);
const start = FIRST + worker * SLICE;
let next = start + Math.floor(Math.random() * SLICE);

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A free TCP port on 127.0.0.1 in this worker's slice, never the same one twice in a row. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < SLICE; tries++) {
    const port = next;
    next = next + 1 < start + SLICE ? next + 1 : start;
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port in ${start}-${start + SLICE - 1}`);
}
