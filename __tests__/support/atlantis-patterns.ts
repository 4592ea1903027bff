// How Atlantis v0.47 decides that a modified file triggers a project, written
// from its behaviour (not its code) so tests can ask the same question:
// - each when_modified pattern is trimmed, a leading "!" marks an exclusion,
//   and the rest is joined with the project's dir (Go's filepath.Join, which
//   cleans the result: "ci-cdktf.out/stacks/x/../../../main.ts" -> "main.ts");
// - the patterns go to moby/patternmatcher v0.6.1 and the modified file
//   (repository-relative) is tested with MatchesOrParentMatches: patterns in
//   order, an exclusion can only undo an earlier match, and a pattern that
//   matches one of the file's parent directories matches the file;
// - a pattern is an exact path, a prefix ("dir/**"), a suffix ("**/name") or a
//   regular expression where "*" is [^/]*, "?" is [^/], and "**" in the middle
//   is "(.*/)?" (any number of folders, even none).
// Not modelled: Windows separators, and patterns that Go's filepath.Match
// would reject as malformed (Atlantis refuses those when it loads them).

/** Go's path/filepath.Clean for slash-separated paths. */
export function cleanPath(path: string): string {
  if (path === "") return ".";
  const rooted = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(part);
  }
  const joined = out.join("/");
  if (rooted) return `/${joined}`;
  return joined === "" ? "." : joined;
}

/** Go's filepath.Join: the non-empty elements joined by "/", then cleaned. */
export function joinPath(...elements: string[]): string {
  const parts = elements.filter((e) => e !== "");
  return parts.length === 0 ? "" : cleanPath(parts.join("/"));
}

/** Go's filepath.Dir. */
function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return cleanPath(i < 0 ? "" : path.slice(0, i + 1));
}

type MatchType = "exact" | "prefix" | "suffix" | "regexp";

interface Pattern {
  readonly exclusion: boolean;
  readonly cleaned: string;
  readonly type: MatchType;
  readonly regexp?: RegExp;
}

const ESCAPED = new Set([...("." + "+()|{}$")]);

function compile(cleaned: string): { type: MatchType; regexp?: RegExp } {
  const chars = [...cleaned];
  let pos = 0;
  let re = "^";
  let type: MatchType = "exact";
  for (let i = 0; pos < chars.length; i++) {
    const ch = chars[pos++];
    if (ch === "*") {
      if (chars[pos] === "*") {
        pos++;
        if (chars[pos] === "/") pos++;
        if (pos >= chars.length) {
          if (type === "exact") type = "prefix";
          else {
            re += ".*";
            type = "regexp";
          }
        } else {
          re += "(.*/)?";
          type = "regexp";
        }
        if (i === 0) type = "suffix";
      } else {
        re += "[^/]*";
        type = "regexp";
      }
    } else if (ch === "?") {
      re += "[^/]";
      type = "regexp";
    } else if (ESCAPED.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === "\\") {
      if (pos < chars.length) {
        re += `\\${chars[pos++]}`;
        type = "regexp";
      } else re += "\\\\";
    } else if (ch === "[" || ch === "]") {
      re += ch;
      type = "regexp";
    } else {
      re += ch;
    }
  }
  return type === "regexp" ? { type, regexp: new RegExp(`${re}$`) } : { type };
}

function parse(raw: string): Pattern | undefined {
  let p = raw.trim();
  if (p === "") return undefined;
  p = cleanPath(p);
  let exclusion = false;
  if (p.startsWith("!")) {
    if (p.length === 1) throw new Error('illegal exclusion pattern: "!"');
    exclusion = true;
    p = p.slice(1);
  }
  return { exclusion, cleaned: p, ...compile(p) };
}

function matchOne(p: Pattern, path: string): boolean {
  switch (p.type) {
    case "exact":
      return path === p.cleaned;
    case "prefix":
      return path.startsWith(p.cleaned.slice(0, -2));
    case "suffix": {
      const suffix = p.cleaned.slice(2);
      return path.endsWith(suffix) || (suffix.startsWith("/") && path === suffix.slice(1));
    }
    case "regexp":
      return (p.regexp as RegExp).test(path);
  }
}

/** patternmatcher's MatchesOrParentMatches: does `file` (slash-separated, repository-relative) match the patterns? */
export function matchesOrParentMatches(patterns: readonly string[], file: string): boolean {
  const compiled = patterns.map(parse).filter((p): p is Pattern => p !== undefined);
  const parent = dirOf(file);
  const parentDirs = parent.split("/");
  let matched = false;
  for (const p of compiled) {
    if (p.exclusion !== matched) continue;
    let match = matchOne(p, file);
    if (!match && parent !== ".") {
      for (let i = 0; i < parentDirs.length && !match; i++) match = matchOne(p, parentDirs.slice(0, i + 1).join("/"));
    }
    if (match) matched = !p.exclusion;
  }
  return matched;
}

export interface WhenModifiedProject {
  readonly dir: string;
  readonly autoplan?: { readonly when_modified?: readonly string[] };
}

/** Does a change to `file` make Atlantis plan this project (its dir cleaned, patterns joined with it)? */
export function projectMatches(project: WhenModifiedProject, file: string): boolean {
  const dir = cleanPath(project.dir);
  const patterns = (project.autoplan?.when_modified ?? []).map((raw) => {
    let wm = raw.trim();
    const exclusion = wm.startsWith("!");
    if (exclusion) wm = wm.slice(1);
    const joined = joinPath(dir, wm);
    return exclusion ? `!${joined}` : joined;
  });
  return matchesOrParentMatches(patterns, file);
}
