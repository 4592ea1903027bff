// Webhooks as GitHub delivers them to Atlantis: the issue_comment payload and the unsigned POST to its /events.
import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { readBody } from "./http";
import type { Pull, Site } from "./types";

/** An issue_comment "created" event: commenter commented body, as comment id, on pull request pull. */
export function issueCommentPayload(site: Site, pull: Pull, id: number, body: string, commenter: string): Record<string, unknown> {
  const n = pull.number;
  return {
    action: "created",
    comment: {
      id,
      node_id: `IC_standin_${id}`,
      body,
      user: { login: commenter, type: "User" },
      html_url: `${site.url}/${site.fullName}/pull/${n}#issuecomment-${id}`,
      created_at: new Date().toISOString(),
    },
    issue: {
      number: n,
      title: pull.title,
      state: pull.state,
      user: { login: pull.author, type: "User" },
      html_url: `${site.url}/${site.fullName}/pull/${n}`,
      pull_request: { url: `${site.url}/api/v3/repos/${site.fullName}/pulls/${n}`, html_url: `${site.url}/${site.fullName}/pull/${n}` },
    },
    repository: site.repoJson(),
    sender: { login: commenter, type: "User" },
  };
}

/** POSTs payload to `${atlantisUrl}/events` as GitHub delivers a webhook (no signature). */
export async function sendWebhook(
  atlantisUrl: string,
  event: "pull_request" | "issue_comment",
  payload: unknown,
): Promise<{ status: number; body: string; ms: number }> {
  const target = new URL(`${atlantisUrl.replace(/\/+$/, "")}/events`);
  const data = Buffer.from(JSON.stringify(payload));
  const started = Date.now();
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const headers = {
      "Content-Type": "application/json",
      "Content-Length": data.length,
      "User-Agent": "GitHub-Hookshot/stand-in",
      "X-GitHub-Event": event,
      "X-GitHub-Delivery": randomUUID(),
    };
    // agent: false, so no keep-alive socket outlives the test.
    const req = send(target, { method: "POST", headers, agent: false }, (res) => {
      readBody(res).then((body) => resolve({ status: res.statusCode ?? 0, body: body.toString("utf8"), ms: Date.now() - started }), reject);
    });
    req.on("error", reject);
    req.end(data);
  });
}
