// The environment file's alerting section: the notification channels every alert policy notifies.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { ConfigError, loadEnvironmentFile } from "../../config/load";
import { exampleData, merge } from "../helpers";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-alerting-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeEnv(name: string, overrides: Record<string, unknown>): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(merge(exampleData(), { name, ...overrides })));
  return file;
}

function problems(file: string): string[] {
  try {
    loadEnvironmentFile(file);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected a ConfigError, but the file loaded");
}

const CHANNEL = "projects/acme-vault-example/notificationChannels/1234567890";

describe("alerting.notificationChannels", () => {
  it("defaults to none", () => {
    expect(loadEnvironmentFile(writeEnv("none", {})).alerting).toEqual({ notificationChannels: [] });
  });

  it("takes channel ids", () => {
    expect(loadEnvironmentFile(writeEnv("one", { alerting: { notificationChannels: [CHANNEL] } })).alerting.notificationChannels).toEqual([CHANNEL]);
  });

  it("refuses a channel's display name or a bare number, in one line with the fix", () => {
    const lines = problems(writeEnv("bad", { alerting: { notificationChannels: ["oncall-email"] } }));
    const line = lines.find((l) => l.includes(": alerting.notificationChannels[0]: ")) as string;
    expect(line).toMatch(/^[^:]+bad\.yaml:\d+:\d+: /);
    expect(line).toContain("projects/<project>/notificationChannels/<number>");
    expect(line).not.toMatch(/\n/);
  });

  it("refuses a channel listed twice", () => {
    const lines = problems(writeEnv("twice", { alerting: { notificationChannels: [CHANNEL, CHANNEL] } }));
    expect(lines.some((l) => l.includes("alerting.notificationChannels") && l.includes("twice"))).toBe(true);
  });
});
