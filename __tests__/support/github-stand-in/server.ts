// The HTTPS server on loopback and its routing: every request is recorded with whose credential came and the status
// answered, then goes to git (smart HTTP), GraphQL or REST; anything else gets 404.
import type { ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { serveGit, type GitSite } from "./git-http-backend";
import { readBody, type Send } from "./http";
import type { PullRequests } from "./pull-requests";
import { graphql, rest, type ApiSite } from "./rest";
import type { Credential, GitHubStandInOptions, RecordedRequest } from "./types";
import { makeTestPki } from "../pki";

/** What routing reads of the stand-in (public members of GitHubStandIn). */
export interface RoutedSite extends ApiSite, GitSite {
  readonly requests: RecordedRequest[];
}

/** A server with a certificate for 127.0.0.1 and localhost from a throwaway CA made in pkiDir; not yet listening. */
export function createTlsServer(pkiDir: string, handler: (req: IncomingMessage, res: ServerResponse) => void): { server: Server; caFile: string } {
  mkdirSync(pkiDir);
  const pki = makeTestPki(pkiDir, ["localhost"], ["127.0.0.1"]);
  const server = createServer({ key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) }, handler);
  return { server, caFile: pki.caCertFile };
}

export async function listen(server: Server): Promise<void> {
  // Port 0: the kernel picks a free loopback port.
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
}

export async function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Go's and curl's clients keep connections alive: close them, or close() waits for their idle timeout.
  server.closeAllConnections();
  await closed;
}

export function credentialOf(header: string | undefined, options: GitHubStandInOptions): Credential {
  if (!header) return "none";
  const space = header.indexOf(" ");
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  const { atlantisUser, atlantisToken, hookToken } = options;
  if (scheme === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return "bad";
    const [user, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    if (user === atlantisUser && secret === atlantisToken) return "atlantis";
    return secret === hookToken ? "hook" : "bad";
  }
  // GitHub takes "token X" as it takes "Bearer X".
  if (scheme === "bearer" || scheme === "token") {
    if (value === hookToken) return "hook";
    return value === atlantisToken ? "atlantis" : "bad";
  }
  return "bad";
}

/** Answers one request; a handler's failure is answered 500 (or the connection dropped) and kept in site.errors. */
export async function route(site: RoutedSite, store: PullRequests, children: Set<ChildProcess>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "https://stand-in");
  const contentEncoding = req.headers["content-encoding"];
  const record: RecordedRequest = {
    method: req.method ?? "GET",
    path: url.pathname + url.search,
    credential: credentialOf(req.headers.authorization, site.options),
    ...(contentEncoding ? { contentEncoding } : {}),
    at: Date.now(),
  };
  site.requests.push(record);
  const send: Send = (status, body, headers = {}) => {
    record.status = status;
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...headers });
    res.end(JSON.stringify(body));
  };
  try {
    const gitPrefix = `/${site.fullName}.git/`;
    if (url.pathname.startsWith(gitPrefix)) return serveGit(site, children, req, res, url, record);
    if (record.credential === "none" || record.credential === "bad") {
      req.resume();
      return send(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
    }
    const raw = await readBody(req);
    if (raw.length > 0) {
      try {
        record.body = JSON.parse(raw.toString("utf8"));
      } catch {
        record.body = raw.toString("utf8");
      }
    }
    if (url.pathname === "/api/graphql" && record.method === "POST") return graphql(site, store, record, send);
    const prefix = `/api/v3/repos/${site.fullName}/`;
    if (!url.pathname.startsWith(prefix)) return send(404, { message: "Not Found" });
    await rest(site, store, record, url, url.pathname.slice(prefix.length).split("/").map(decodeURIComponent), send);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    site.errors.push(`${record.method} ${record.path}: ${message}`);
    if (!res.headersSent) send(500, { message: `stand-in failure: ${message}` });
    else res.destroy();
  }
}
