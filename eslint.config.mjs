// Lint rules that guard speed and layout; type checking is `npm run typecheck`.
import tseslint from "typescript-eslint";

const providerRoot = {
  regex: "^@cdktf/provider-[a-z0-9-]+(/lib)?/?$",
  message:
    "import the provider class from its own file, for example '@cdktf/provider-google/lib/container-node-pool': the package root loads every resource of the provider (about 1.7 s and 850 MB per synth)",
};

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", "cdktf.out/**", "agent/dist/**", ".tools/**", "coverage/**"] },
  {
    files: ["**/*.ts"],
    languageOptions: { parser: tseslint.parser },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {
      "no-restricted-imports": ["error", { patterns: [providerRoot] }],
      "@typescript-eslint/no-explicit-any": "error",
      "no-console": ["error", { allow: ["error"] }],
    },
  },
  {
    files: ["scripts/**/*.ts", "commands/**/*.ts", "__tests__/**/*.ts", "agent/__tests__/**/*.ts"],
    rules: { "no-console": "off" },
  },
);
