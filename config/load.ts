// Reads environments/<env>.yaml into an EnvironmentConfig. A user mistake
// becomes a ConfigError with one line per problem that names the file, the line,
// the field path, the value and the fix: never a stack trace.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { environmentSchema, type EnvironmentConfig } from "./schema";

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}

type Path = readonly PropertyKey[];

export function formatPath(path: Path): string {
  return path.map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`)).join("");
}

function formatValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Zod's name of an expected type as a person says it, with its article ("int" is a whole number). */
function typeName(expected: string): string {
  const name = expected === "int" ? "whole number" : expected;
  return `${/^[aeiou]/.test(name) ? "an" : "a"} ${name}`;
}

/** For unknown keys under a given path (dotted), or for one unknown key (path.key), the sentence that says what to do. */
export type UnknownKeyHints = Readonly<Record<string, string>>;

/** One human sentence per zod issue: what is wrong and what to do. */
function describe(issue: z.core.$ZodIssue, hints: UnknownKeyHints, documentedIn: string): { path: Path; text: string } {
  const value = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case "unrecognized_keys":
      return {
        path: [...issue.path, issue.keys[0]],
        text:
          hints[[...issue.path, issue.keys[0]].join(".")] ??
          hints[issue.path.join(".")] ??
          `unknown field${issue.keys.length > 1 ? "s " + issue.keys.join(", ") : ""}; remove it or fix its spelling (${documentedIn} documents every field)`,
      };
    case "invalid_type": {
      const type = typeName(issue.expected);
      if (value === undefined) return { path: issue.path, text: `is required; add it (${type})` };
      return {
        path: issue.path,
        text: `got ${formatValue(value)}, expected ${type}; ${issue.expected === "boolean" ? "write true or false" : `write ${type}`}`,
      };
    }
    case "invalid_value":
      return { path: issue.path, text: `got ${formatValue(value)}; use one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` };
    case "too_small":
      return {
        path: issue.path,
        text:
          issue.origin === "array"
            ? `${issue.message.startsWith("Too small") ? `needs at least ${issue.minimum} entries` : issue.message}; got ${formatValue(value)}`
            : `got ${formatValue(value)}; ${issue.message.startsWith("Too small") ? `use ${issue.minimum} or more` : issue.message}`,
      };
    case "too_big":
      return { path: issue.path, text: `got ${formatValue(value)}; ${issue.message.startsWith("Too big") ? `use at most ${issue.maximum}` : issue.message}` };
    default:
      return { path: issue.path, text: value === undefined ? issue.message : `got ${formatValue(value)}; ${issue.message}` };
  }
}

/** Validates already-parsed data against `schema`; `source` names the file in messages. */
export function validate<S extends z.ZodType>(
  schema: S,
  data: unknown,
  source: string,
  locate: (path: Path) => string = () => "",
  options: { hints?: UnknownKeyHints; documentedIn?: string } = {},
): z.output<S> {
  const result = schema.safeParse(data, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const { path, text } = describe(issue, options.hints ?? {}, options.documentedIn ?? "environments/example.yaml");
        return `${source}${locate(path)}: ${formatPath(path) || "(top level)"}: ${text}`;
      }),
    );
  }
  return result.data;
}

/** Fields that moved or went away, with what to write instead. */
const ENVIRONMENT_HINTS: UnknownKeyHints = {
  "bootstrap.provisionerTokenPeriod":
    "renamed to planTokenPeriod: the sidecar no longer stores a writing token; it keeps a read-only plan token, and applies log in per run (README: delivery)",
};

export function parseEnvironment(data: unknown, source: string, locate: (path: Path) => string = () => ""): EnvironmentConfig {
  return validate(environmentSchema, data, source, locate, { hints: ENVIRONMENT_HINTS });
}

export interface YamlFile {
  readonly data: unknown;
  /** ":line:col" of the value at a path (or of its nearest present parent). */
  readonly locate: (path: Path) => string;
}

/** Reads and parses a YAML file; unreadable files and syntax errors become ConfigErrors with file:line:col. */
export function readYamlFile(file: string): YamlFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError([`${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? "error"}); check the path`]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return `${file}:${pos.line}:${pos.col}: not valid YAML: ${e.message.split("\n")[0]}; fix the syntax there`;
      }),
    );
  }
  const locate = (path: Path): string => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node?.range) {
        const pos = lineCounter.linePos(node.range[0]);
        return `:${pos.line}:${pos.col}`;
      }
    }
    return "";
  };
  return { data: doc.toJS(), locate };
}

/** The file's base name must equal the document's `name`, so names and files never drift apart. */
export function requireNameMatchesFile(file: string, name: string, locate: (path: Path) => string): void {
  const expected = basename(file).replace(/\.ya?ml$/, "");
  if (name !== expected) {
    throw new ConfigError([`${file}${locate(["name"])}: name: got "${name}"; it must match the file name, so write name: ${expected} (or rename the file)`]);
  }
}

export function loadEnvironmentFile(file: string): EnvironmentConfig {
  const { data, locate } = readYamlFile(file);
  const env = parseEnvironment(data, file, locate);
  requireNameMatchesFile(file, env.name, locate);
  return env;
}

/** Runs `load` on every *.yaml of `dir` (sorted) and reports the problems of all files at once. */
export function loadAll<T>(dir: string, load: (file: string) => T): T[] {
  if (!existsSync(dir)) throw new ConfigError([`${dir}: no such folder; check the path`]);
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const problems: string[] = [];
  const out: T[] = [];
  for (const f of files) {
    try {
      out.push(load(join(dir, f)));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

/** Loads every environments/*.yaml; reports the problems of all files at once. */
/** The environments a name can be chosen from: the base names of dir/*.yaml. */
export function environmentNames(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => f.slice(0, -".yaml".length))
      .sort();
  } catch {
    return [];
  }
}

export function loadEnvironments(dir: string): EnvironmentConfig[] {
  const envs = loadAll(dir, loadEnvironmentFile);
  if (envs.length === 0) throw new ConfigError([`${dir}: no environment files (*.yaml); copy environments/example.yaml and edit it`]);
  return envs;
}
