// Atlantis' when_modified matching as support/atlantis-patterns.ts reproduces it (Atlantis v0.47's rules),
// which atlantis.test.ts relies on to say which project a changed file plans.
import { cleanPath, joinPath, matchesOrParentMatches, projectMatches } from "./support/atlantis-patterns";

describe("Atlantis' when_modified matching (support/atlantis-patterns.ts)", () => {
  it.each([
    ["**", "file", true],
    ["**", "dir/file", true],
    ["dir/**", "dir/dir2/file", true],
    ["abc/**", "abc", false],
    ["**/dir", "dir/file", true],
    ["**/dir2/*", "dir/dir2/file", true],
    ["**/file", "dir/dir/file", true],
    ["**/*.txt", "file.txt", true],
    ["**/**/*.txt2", "dir/dir/file.txt", false],
    ["a/*.txt", "a/dir/file.txt", false],
    ["a/*.txt", "a/file.txt", true],
    ["a**/*.txt", "a/dir/dir/file.txt", true],
    ["a[b-d]e", "ace", true],
    ["a[b-d]e", "aae", false],
    [".*", "foo", false],
    ["abc.def", "abcZdef", false],
    ["abc?def", "abcZdef", true],
    ["**/.foo", "bar.foo", false],
    ["a(b)c/def", "a(b)c/def", true],
    ["stacks/*.ts", "stacks/vault-stack.ts", true],
    ["stacks/*.ts", "stacks/sub/x.ts", false],
    ["stacks", "stacks/vault-stack.ts", true],
  ])("pattern %s on %s: %s", (pattern, file, expected) => {
    expect(matchesOrParentMatches([pattern], file)).toBe(expected);
  });

  it("applies exclusions in order", () => {
    expect(matchesOrParentMatches(["**", "!util/docker/web"], "util/docker/web/foo")).toBe(false);
    expect(matchesOrParentMatches(["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo")).toBe(true);
  });

  it("joins patterns with the project dir and cleans them, as filepath.Join does", () => {
    expect(cleanPath("a/b/../../c/./d//e")).toBe("c/d/e");
    expect(cleanPath("../../x")).toBe("../../x");
    expect(joinPath("ci-cdktf.out/stacks/s", "../../../main.ts")).toBe("main.ts");
    expect(projectMatches({ dir: "ci-cdktf.out/stacks/s", autoplan: { when_modified: ["../../../policies/*.hcl"] } }, "policies/admin.hcl")).toBe(true);
    expect(projectMatches({ dir: "ci-cdktf.out/stacks/s", autoplan: { when_modified: ["policies/*.hcl"] } }, "policies/admin.hcl")).toBe(false);
  });
});
