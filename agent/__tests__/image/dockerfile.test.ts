// The image cannot be built here (no Docker engine); this checks the promises
// the Dockerfile makes: a minimal non-root runtime stage that only copies the
// bundles, one per command that agent/build.js emits.
import { readFileSync } from "node:fs";
import { join } from "node:path";
const { ENTRY_POINTS } = require("../../build.js") as { ENTRY_POINTS: Record<string, string> };

const lines = readFileSync(join(__dirname, "..", "..", "Dockerfile"), "utf8")
  .split("\n")
  .filter((l) => l.trim() && !l.startsWith("#"));
const finalStage = lines.slice(lines.map((l) => l.startsWith("FROM ")).lastIndexOf(true));

describe("bootstrap Dockerfile", () => {
  it("runs the bundle on a distroless Node.js base as a non-root user", () => {
    expect(finalStage[0]).toMatch(/^FROM gcr\.io\/distroless\/nodejs22-debian12:nonroot$/);
    expect(finalStage).toContain("USER 65532:65532");
    expect(finalStage.find((l) => l.startsWith("ENTRYPOINT"))).toBe('ENTRYPOINT ["/nodejs/bin/node", "/app/main.js"]');
  });

  it("installs nothing in the runtime stage and copies only the bundles, each with its source map", () => {
    expect(finalStage.filter((l) => l.startsWith("RUN "))).toEqual([]);
    expect(Object.keys(ENTRY_POINTS).sort()).toEqual(["main", "restore", "snapshot"]);
    expect(finalStage.filter((l) => l.startsWith("COPY "))).toEqual(
      Object.keys(ENTRY_POINTS).map((name) => `COPY --from=build /src/agent/dist/${name}.js /src/agent/dist/${name}.js.map ./`),
    );
  });

  it("pins the build image to an exact release and installs from the lock file", () => {
    expect(lines[0]).toMatch(/^FROM node:\d+\.\d+\.\d+-bookworm-slim AS build$/);
    expect(lines).toContain("RUN npm ci --no-audit --no-fund --ignore-scripts");
  });
});
