// ESLint: typescript-eslint's type-checked rules over the sources, tests and benchmarks.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", ".ph-tasks/", "test-artifacts/", "stubs/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["*.js", "bin/*.js"] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/only-throw-error": "error",
      "@typescript-eslint/no-floating-promises": "error",
    },
  },
  {
    // The dashboard: plain browser JavaScript, outside the TypeScript project.
    files: ["src/http/dashboard/**/*.js"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: null },
      sourceType: "module",
      globals: Object.fromEntries(
        ["window", "document", "location", "localStorage", "fetch", "FormData", "TextDecoder", "AbortController", "Node", "setTimeout", "setInterval", "clearInterval", "console", "URLSearchParams"].map((name) => [name, "readonly"]),
      ),
    },
  },
  {
    // Executor plugins as users write them: plain JavaScript modules, outside the project.
    files: ["test/fixtures/**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { parserOptions: { projectService: false, project: null }, sourceType: "module", globals: { setTimeout: "readonly", clearTimeout: "readonly", fetch: "readonly" } },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
    },
  },
);
