// The emulated API: REST under /api/v3/repos/{owner}/{repo}/ and GraphQL's minimizeComment. The caller has checked
// the credential and parsed the body into record.body.
import { changedFiles, tip } from "./git";
import { asObject, asString, page, type Send } from "./http";
import { commentJson, pullJson } from "./json";
import type { PullRequests } from "./pull-requests";
import type { CommitStatus, GitHubStandInOptions, IssueComment, RecordedRequest, Review, Role, Site } from "./types";

const GITHUB_STATUS_STATES = ["error", "failure", "pending", "success"];
const MAX_COMMENT = 65_536;

/** What the API reads of the stand-in (public members of GitHubStandIn, read per request as tests may change them). */
export interface ApiSite extends Site {
  readonly options: GitHubStandInOptions;
  readonly bareDir: string;
  readonly reviews: Record<number, Review[]>;
  readonly permissions: Record<string, Role>;
  readonly minimized: { readonly subjectId: string; readonly classifier: string }[];
}

/** parts: the path after the repository's prefix, split at "/" and decoded. */
export async function rest(site: ApiSite, store: PullRequests, record: RecordedRequest, url: URL, parts: string[], send: Send): Promise<void> {
  const [kind, id, sub, leaf] = parts;
  const method = record.method;
  const body = asObject(record.body);
  const login = record.credential === "hook" ? (site.options.hookUser ?? site.options.atlantisUser) : site.options.atlantisUser;
  const pull = kind === "pulls" || (kind === "issues" && sub === "comments") ? store.get(Number(id)) : undefined;
  const notFound = () => send(404, { message: "Not Found" });

  if (kind === "pulls" && parts.length === 2 && method === "GET") {
    if (!pull) return notFound();
    const [head, base] = await Promise.all([tip(site.bareDir, pull.headRef), tip(site.bareDir, pull.baseRef)]);
    return send(200, pullJson(site, pull, head, base));
  }
  if (kind === "pulls" && parts.length === 3 && sub === "reviews" && method === "GET") {
    if (!pull) return notFound();
    const reviews = (site.reviews[pull.number] ?? []).map((r, i) => ({ id: 80_000 + i, ...r }));
    return page(site.url, url, reviews, send);
  }
  if (kind === "pulls" && parts.length === 3 && sub === "files" && method === "GET") {
    if (!pull) return notFound();
    return page(site.url, url, await changedFiles(site.bareDir, pull), send);
  }
  if (kind === "collaborators" && parts.length === 3 && sub === "permission" && method === "GET") {
    const role = site.permissions[id];
    if (!role) return notFound();
    const permission = role === "maintain" ? "write" : role === "triage" ? "read" : role;
    return send(200, { permission, role_name: role, user: { login: id, type: "User" } });
  }
  if (kind === "statuses" && parts.length === 2 && method === "POST") {
    const state = asString(body.state);
    if (!GITHUB_STATUS_STATES.includes(state)) return send(422, { message: "Validation Failed", errors: [{ field: "state", code: "invalid" }] });
    const status: CommitStatus = {
      id: store.newId(),
      sha: id,
      state,
      context: asString(body.context) || "default",
      description: asString(body.description),
      target_url: asString(body.target_url),
      at: Date.now(),
    };
    store.addStatus(status);
    const created = new Date(status.at).toISOString();
    const { at: _at, sha: _sha, ...json } = status;
    const statusUrl = `${site.url}/api/v3/repos/${site.fullName}/statuses/${id}`;
    return send(201, { ...json, url: statusUrl, created_at: created, updated_at: created, creator: { login } });
  }
  if (kind === "issues" && parts.length === 3 && sub === "comments" && method === "POST") {
    if (!pull) return notFound();
    const text = asString(body.body);
    const invalid = (error: Record<string, string>) => send(422, { message: "Validation Failed", errors: [{ field: "body", ...error }] });
    if (!text) return invalid({ code: "missing_field" });
    if (text.length > MAX_COMMENT) return invalid({ code: "custom", message: "body is too long" });
    const commentId = store.newId();
    const at = Date.now();
    const comment: IssueComment = {
      id: commentId,
      node_id: `IC_standin_${commentId}`,
      body: text,
      user: { login },
      html_url: `${site.url}/${site.fullName}/pull/${pull.number}#issuecomment-${commentId}`,
      created_at: new Date(at).toISOString(),
      at,
    };
    store.addComment(pull.number, comment);
    return send(201, commentJson(comment));
  }
  if (kind === "issues" && parts.length === 3 && sub === "comments" && method === "GET") {
    if (!pull) return notFound();
    return page(
      site.url,
      url,
      store.comments(pull.number).map((c) => commentJson(c)),
      send,
    );
  }
  if (kind === "issues" && id === "comments" && parts.length === 4 && leaf === "reactions" && method === "POST") {
    return send(201, { id: store.newId(), content: asString(body.content), user: { login } });
  }
  return notFound();
}

/** POST /api/graphql: only minimizeComment, on a comment posted through the API. */
export function graphql(site: ApiSite, store: PullRequests, record: RecordedRequest, send: Send): void {
  const body = asObject(record.body);
  const input = asObject(asObject(body.variables).input);
  if (!asString(body.query).includes("minimizeComment")) return send(200, { data: null, errors: [{ message: "not emulated" }] });
  const subjectId = asString(input.subjectId);
  const classifier = asString(input.classifier) || "OUTDATED";
  site.minimized.push({ subjectId, classifier });
  const comment = store.findComment(subjectId);
  if (!comment) {
    const message = `Could not resolve to a node with the global id of '${subjectId}'`;
    return send(200, { data: { minimizeComment: null }, errors: [{ type: "NOT_FOUND", message }] });
  }
  comment.minimized = classifier;
  send(200, { data: { minimizeComment: { minimizedComment: { isMinimized: true, minimizedReason: "OUTDATED", viewerCanMinimize: true } } } });
}
