// Four projects: `unit` starts no server and must stay fast; `integration`
// starts real OpenBao (and PostgreSQL) servers on loopback; `integration-vault`
// runs the tests that start a Vault server again on HashiCorp Vault 1.21.4, the
// example's distribution (ON_VAULT lists them; where the distributions differ,
// a test says so per distribution); `e2e` walks pull requests through a real
// Atlantis server.
// @swc/jest strips types without type checking: `npm run typecheck` does that once.
const transform = { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }] };
const common = { testEnvironment: "node", transform, moduleFileExtensions: ["ts", "js", "json"] };

/** The tests that run on both distributions. */
const ON_VAULT = [
  "__tests__/policies*.int.test.ts",
  "__tests__/verifier*.int.test.ts",
  "__tests__/postgres-credentials.int.test.ts",
  "__tests__/constructs/vault-server-config.int.test.ts",
  "__tests__/certificate-rotation.int.test.ts",
  "__tests__/audit-device-errors.int.test.ts",
  "agent/__tests__/verify/*.int.test.ts",
  "agent/__tests__/sidecar/*.int.test.ts",
  "agent/__tests__/restore/*.int.test.ts",
  "agent/__tests__/snapshot/*.int.test.ts",
];

module.exports = {
  globalSetup: "<rootDir>/jest.global-setup.js",
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/__tests__/**/*.test.ts", "<rootDir>/agent/__tests__/**/*.test.ts"],
      testPathIgnorePatterns: ["\\.int\\.test\\.ts$", "\\.e2e\\.test\\.ts$"],
    },
    {
      ...common,
      displayName: "integration",
      testMatch: ["<rootDir>/__tests__/**/*.int.test.ts", "<rootDir>/agent/__tests__/**/*.int.test.ts"],
    },
    {
      ...common,
      displayName: "integration-vault",
      testMatch: ON_VAULT.map((glob) => `<rootDir>/${glob}`),
      setupFiles: ["<rootDir>/__tests__/support/on-vault.js"],
    },
    {
      ...common,
      // A pull request through a real Atlantis to a configured Vault (__tests__/e2e/world.ts says what runs).
      displayName: "e2e",
      testMatch: ["<rootDir>/__tests__/e2e/**/*.e2e.test.ts"],
    },
  ],
};
