// The bare repository over git smart HTTP: `git http-backend` run as CGI per request, as a web server runs it.
import { spawn, type ChildProcess } from "node:child_process";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { gitEnv } from "./git";
import type { GitHubStandInOptions, RecordedRequest } from "./types";

/** What serving git reads of the stand-in (public members of GitHubStandIn, read per request as tests may change them). */
export interface GitSite {
  readonly options: GitHubStandInOptions;
  readonly bareDir: string;
  readonly gitRequiresAuth: boolean;
  readonly errors: string[];
}

/**
 * Git smart HTTP through `git http-backend` as CGI: the request body streams to its stdin, its output back.
 * children holds the running backends, so stopping the stand-in can kill them.
 */
export function serveGit(site: GitSite, children: Set<ChildProcess>, req: IncomingMessage, res: ServerResponse, url: URL, record: RecordedRequest): void {
  const { credential } = record;
  if (credential === "bad" || credential === "hook" || (credential === "none" && site.gitRequiresAuth)) {
    req.resume();
    record.status = 401;
    res.writeHead(401, { "Content-Type": "text/plain", "WWW-Authenticate": 'Basic realm="GitHub stand-in"' });
    res.end("Authentication failed\n");
    return;
  }
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(", ") : v;
  };
  const cgi: NodeJS.ProcessEnv = {
    GIT_PROJECT_ROOT: join(site.bareDir, "..", ".."),
    GIT_HTTP_EXPORT_ALL: "1",
    GATEWAY_INTERFACE: "CGI/1.1",
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REQUEST_METHOD: record.method,
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: header("content-type") ?? "",
    REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
  };
  // Without CONTENT_LENGTH (a chunked request) http-backend reads its stdin to the end.
  const length = header("content-length");
  if (length) cgi.CONTENT_LENGTH = length;
  // git gzips request bodies over 1 KiB; http-backend inflates them itself when told the encoding.
  const encoding = header("content-encoding");
  if (encoding) cgi.HTTP_CONTENT_ENCODING = encoding;
  // Protocol v2 is asked for in this header.
  const protocol = header("git-protocol");
  if (protocol) cgi.HTTP_GIT_PROTOCOL = protocol;
  if (credential === "atlantis") Object.assign(cgi, { REMOTE_USER: site.options.atlantisUser, AUTH_TYPE: "Basic" });

  const child = spawn("git", ["http-backend"], { env: gitEnv(cgi), stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  const stderr: Buffer[] = [];
  child.stderr.on("data", (c: Buffer) => stderr.push(c));
  child.stdin.on("error", () => undefined); // http-backend may exit before reading a refused request's body
  req.pipe(child.stdin);

  let head = Buffer.alloc(0);
  let answered = false;
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const crlf = head.indexOf("\r\n\r\n");
    const lf = head.indexOf("\n\n");
    const [end, gap] = lf >= 0 && (crlf < 0 || lf < crlf) ? [lf, 2] : [crlf, 4];
    if (end < 0) return;
    child.stdout.off("data", onData);
    answered = true;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString("latin1").split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
      if (name.toLowerCase() === "status") status = parseInt(value, 10) || 500;
      else headers[name] = value;
    }
    record.status = status;
    res.writeHead(status, headers);
    res.write(head.subarray(end + gap));
    child.stdout.pipe(res);
  };
  child.stdout.on("data", onData);
  res.on("close", () => {
    if (!res.writableFinished && child.exitCode === null) child.kill("SIGKILL");
  });
  child.on("close", (code, signal) => {
    children.delete(child);
    const err = Buffer.concat(stderr).toString("utf8").trim();
    if (code !== 0 || (record.status ?? 0) >= 500) site.errors.push(`git http-backend ${record.method} ${record.path}: exit ${code ?? signal}: ${err}`);
    if (!answered) {
      record.status = 502;
      if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
      res.end(`git http-backend gave no response: ${err}\n`);
    }
  });
}
