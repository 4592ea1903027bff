// The pull requests and what was posted to them: comments, and statuses by commit. The REST handlers write here,
// tests read through GitHubStandIn.
import type { CommitStatus, IssueComment, Pull, PullSpec } from "./types";

export class PullRequests {
  private nextId = 1001;
  private readonly pulls = new Map<number, Pull>();
  private readonly commentsByPull = new Map<number, IssueComment[]>();
  private readonly statusesBySha = new Map<string, CommitStatus[]>();
  private readonly cursors = new Map<number, number>();

  /** The next id for a comment, status or reaction: one sequence, so no two of them share an id. */
  newId(): number {
    return this.nextId++;
  }

  /** Opens (or replaces) the pull request spec.number; its base defaults to defaultBranch. */
  set(spec: PullSpec, defaultBranch: string): void {
    this.pulls.set(spec.number, {
      number: spec.number,
      headRef: spec.headRef,
      baseRef: spec.baseRef ?? defaultBranch,
      title: spec.title ?? `Pull request #${spec.number}`,
      author: spec.author ?? "octocat",
      state: "open",
      createdAt: new Date().toISOString(),
      closedAt: null,
    });
  }

  get(n: number): Pull | undefined {
    return this.pulls.get(n);
  }

  /** Pull request n, which a test must have set. */
  pull(n: number): Pull {
    const pull = this.pulls.get(n);
    if (!pull) throw new Error(`the GitHub stand-in has no pull request #${n}`);
    return pull;
  }

  close(n: number): void {
    const pull = this.pull(n);
    pull.state = "closed";
    pull.closedAt = new Date().toISOString();
  }

  addComment(n: number, comment: IssueComment): void {
    const list = this.commentsByPull.get(n) ?? [];
    list.push(comment);
    this.commentsByPull.set(n, list);
  }

  comments(n: number): readonly IssueComment[] {
    return this.commentsByPull.get(n) ?? [];
  }

  /** The comment with GraphQL node id nodeId, on any pull request. */
  findComment(nodeId: string): IssueComment | undefined {
    return [...this.commentsByPull.values()].flat().find((c) => c.node_id === nodeId);
  }

  addStatus(status: CommitStatus): void {
    const list = this.statusesBySha.get(status.sha) ?? [];
    list.push(status);
    this.statusesBySha.set(status.sha, list);
  }

  statuses(sha: string): readonly CommitStatus[] {
    return this.statusesBySha.get(sha) ?? [];
  }

  latestStatus(sha: string, context: string): CommitStatus | undefined {
    const list = this.statuses(sha);
    for (let i = list.length - 1; i >= 0; i--) if (list[i].context === context) return list[i];
    return undefined;
  }

  /**
   * The first comment on pull n at index >= since (default: after the one this method last returned for n) that
   * matches; polls every 100 ms until timeoutMs.
   */
  async waitForComment(n: number, predicate: (c: IssueComment) => boolean, timeoutMs = 60_000, since?: number): Promise<IssueComment> {
    const deadline = Date.now() + timeoutMs;
    const from = since ?? this.cursors.get(n) ?? 0;
    for (;;) {
      const list = this.comments(n);
      for (let i = from; i < list.length; i++) {
        if (predicate(list[i])) {
          this.cursors.set(n, i + 1);
          return list[i];
        }
      }
      if (Date.now() >= deadline) {
        const seen = list.slice(from).map((c) => `#${c.id}: ${c.body.slice(0, 300)}`);
        throw new Error(`no new comment on pull request #${n} matched within ${timeoutMs} ms; new comments:\n${seen.join("\n---\n") || "(none)"}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
