// TypeScript lint for the server and its tooling (`npm run lint`), type-aware through tsconfig.json.
// server/ and scripts/ get typescript-eslint's recommended-type-checked plus the strict rules that fit;
// test/ and bench/ a lighter set. The web app (web/) brings its own configuration.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  {
    ignores: ["web/**", "dist/**", "artifacts/**", "cache/**", "typechain-types/**", "coverage/**", "packages/*/dist/**", "node_modules/**", "**/*.js", "**/*.cjs", "**/*.mjs"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // Strict rules that catch real mistakes in this code.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports", disallowTypeAnnotations: false }],
      "@typescript-eslint/no-import-type-side-effects": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/no-unnecessary-type-assertion": "error",
      "@typescript-eslint/prefer-promise-reject-errors": "error",
      "@typescript-eslint/no-floating-promises": ["error", { ignoreVoid: true }],
      "@typescript-eslint/return-await": ["error", "in-try-catch"],
      "@typescript-eslint/no-extraneous-class": "off", // type-graphql resolvers and MikroORM entities are classes by design.
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-var": "error",
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }], // a closure may read a variable assigned after it is made
      // MikroORM entities, GraphQL input types and enums declared with decorators merge class and interface on purpose.
      "@typescript-eslint/no-unsafe-declaration-merging": "off",
      // Express and ws take async handlers whose promise they ignore; each handler catches its own errors.
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false, attributes: false } }],
      // Numbers, bigints and enums in template strings are how messages are written here; objects still fail.
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true, allowNullish: true, allowRegExp: false }],
      // `require()` is used on purpose for optional and lazily loaded modules (CommonJS package).
      "@typescript-eslint/no-require-imports": "off",
      // Async callbacks without an await satisfy promise-returning contracts (transactional(), resolvers, iterators).
      "@typescript-eslint/require-await": "off",
      // String enums are compared with the same strings read from SQL rows, GraphQL selections and principals.
      "@typescript-eslint/no-unsafe-enum-comparison": "off",
      // An AbortSignal's reason and a body parser's error are passed on as they came, as the platform does.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true, allowThrowingAny: true }],
    },
  },
  {
    // Boundaries with untyped libraries: Express bodies and queries (validated against the OpenAPI document
    // before a handler runs), ethers' contract results, knex's connection internals, hardhat's runtime,
    // Apollo's request body, MikroORM's transaction context.
    files: [
      "server/rest/**/*.ts",
      "server/chain/contracts.ts",
      "server/db/lean.ts",
      "server/graphql/apollo.ts",
      "server/jobs/job.queue.ts", // MikroORM's transaction context is typed any
      "server/tasks/transition.log.ts", // likewise
      "scripts/**/*.ts",
      "hardhat.config.ts",
    ],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  {
    // Tests and benchmarks are linted without type information: the lighter set, and it keeps `npm run lint` fast.
    files: ["test/**/*.ts", "bench/**/*.ts"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { parserOptions: { projectService: false, project: null } },
  },
  {
    // Tests and benchmarks: chai's `expect(x).to.be.true` style, `any` in fixtures and non-null assertions are normal there.
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-expressions": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
