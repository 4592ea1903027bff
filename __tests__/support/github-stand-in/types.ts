// What the stand-in records and answers: the JSON shapes it serves (as GitHub's REST API spells them) and its records.

export interface Review {
  readonly id?: number;
  readonly user: { readonly login: string };
  readonly state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";
  readonly commit_id: string;
  readonly author_association: string;
  readonly submitted_at?: string;
}

/** A collaborator's role; the API's `permission` reports maintain as write and triage as read, `role_name` the role. */
export type Role = "admin" | "maintain" | "write" | "triage" | "read" | "none";

export interface PullSpec {
  readonly number: number;
  readonly headRef: string;
  /** Default: the branch initFrom made. */
  readonly baseRef?: string;
  readonly title?: string;
  /** The author's login (default "octocat"). */
  readonly author?: string;
}

export interface IssueComment {
  readonly id: number;
  readonly node_id: string;
  readonly body: string;
  readonly user: { readonly login: string };
  readonly html_url: string;
  readonly created_at: string;
  /** When the stand-in received it (Date.now()). */
  readonly at: number;
  /** The classifier of a minimizeComment mutation on it (Atlantis: OUTDATED). */
  minimized?: string;
}

export interface CommitStatus {
  readonly id: number;
  readonly sha: string;
  readonly state: string;
  readonly context: string;
  readonly description: string;
  readonly target_url: string;
  readonly at: number;
}

export type Credential = "atlantis" | "hook" | "none" | "bad";

export interface RecordedRequest {
  readonly method: string;
  /** Path with query. */
  readonly path: string;
  /** Whose credential came (Basic or Bearer): Atlantis's, the hook's, none, or a wrong one. */
  readonly credential: Credential;
  readonly contentEncoding?: string;
  /** The parsed JSON body of an API request, if any. */
  body?: unknown;
  status?: number;
  readonly at: number;
}

export interface RepoJson {
  readonly id: number;
  readonly node_id: string;
  readonly name: string;
  readonly full_name: string;
  readonly owner: { readonly login: string; readonly type: string };
  readonly private: boolean;
  readonly html_url: string;
  readonly clone_url: string;
  readonly url: string;
  readonly default_branch: string;
}

export interface PullJson {
  readonly id: number;
  readonly node_id: string;
  readonly number: number;
  readonly state: "open" | "closed";
  readonly locked: boolean;
  readonly draft: boolean;
  readonly title: string;
  readonly body: string;
  readonly url: string;
  readonly html_url: string;
  readonly user: { readonly login: string; readonly type: string };
  readonly merged: boolean;
  readonly mergeable: boolean;
  readonly mergeable_state: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly closed_at: string | null;
  readonly head: { readonly label: string; readonly ref: string; readonly sha: string; readonly user: { readonly login: string }; readonly repo: RepoJson };
  readonly base: { readonly label: string; readonly ref: string; readonly sha: string; readonly user: { readonly login: string }; readonly repo: RepoJson };
}

export interface ChangedFile {
  readonly filename: string;
  readonly status: "added" | "modified" | "removed" | "renamed" | "copied" | "changed";
  readonly previous_filename?: string;
  readonly additions: number;
  readonly deletions: number;
  readonly changes: number;
}

export interface GitHubStandInOptions {
  readonly owner: string;
  readonly repo: string;
  readonly atlantisUser: string;
  readonly atlantisToken: string;
  readonly hookToken: string;
  /** The login of what the hook token posts (default: atlantisUser). */
  readonly hookUser?: string;
  /** Refuse anonymous git requests (default false: git clones anonymously, as from a public repository). */
  readonly gitRequiresAuth?: boolean;
}

/** A pull request as the stand-in keeps it; its SHAs are read from the bare repository when asked. */
export interface Pull {
  readonly number: number;
  readonly headRef: string;
  readonly baseRef: string;
  readonly title: string;
  readonly author: string;
  state: "open" | "closed";
  readonly createdAt: string;
  closedAt: string | null;
}

/** What the JSON builders read of the stand-in (public members of GitHubStandIn, which satisfies it). */
export interface Site {
  readonly owner: string;
  readonly repo: string;
  readonly fullName: string;
  readonly url: string;
  readonly cloneUrl: string;
  repoJson(): RepoJson;
}
