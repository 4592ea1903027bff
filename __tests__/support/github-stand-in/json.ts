// The repository, pull requests and comments as GitHub's REST API and webhooks spell them.
import type { IssueComment, Pull, PullJson, RepoJson, Site } from "./types";

export function repoJson(site: Site, defaultBranch: string): RepoJson {
  return {
    id: 4242,
    node_id: "R_standin",
    name: site.repo,
    full_name: site.fullName,
    owner: { login: site.owner, type: "Organization" },
    private: false,
    html_url: `${site.url}/${site.fullName}`,
    clone_url: site.cloneUrl,
    url: `${site.url}/api/v3/repos/${site.fullName}`,
    default_branch: defaultBranch,
  };
}

/** The pull request with the given head and base SHAs (the branch tips when asked). */
export function pullJson(site: Site, pull: Pull, headSha: string, baseSha: string): PullJson {
  const repo = site.repoJson();
  const side = (ref: string, sha: string) => ({ label: `${site.owner}:${ref}`, ref, sha, user: { login: site.owner }, repo });
  return {
    id: 700_000 + pull.number,
    node_id: `PR_standin_${pull.number}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    draft: false,
    title: pull.title,
    body: "",
    url: `${site.url}/api/v3/repos/${site.fullName}/pulls/${pull.number}`,
    html_url: `${site.url}/${site.fullName}/pull/${pull.number}`,
    user: { login: pull.author, type: "User" },
    merged: false,
    mergeable: true,
    mergeable_state: "clean",
    created_at: pull.createdAt,
    updated_at: new Date().toISOString(),
    closed_at: pull.closedAt,
    head: side(pull.headRef, headSha),
    base: side(pull.baseRef, baseSha),
  };
}

/** A recorded comment as the API answers it: without the stand-in's own fields (at, minimized). */
export function commentJson(c: IssueComment): Record<string, unknown> {
  const { at: _at, minimized: _minimized, ...json } = c;
  return { ...json, user: { ...c.user, type: "User" }, updated_at: c.created_at, author_association: "NONE" };
}
