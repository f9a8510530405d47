/**
 * The layering of server/, kept by `npm run lint` (dependency-cruiser):
 *
 *   composition  server/index.ts, app.ts, services.ts, config.ts: wire everything
 *   transports   server/rest, mcp, subscriptions, web, sessions, and GraphQL's own
 *                hosting (server/graphql/apollo.ts, schema.ts, admission.ts, and
 *                runner.ts, which runs REST's and MCP's documents)
 *   features     agents, deposits, escrow, guardian, kyc, ledger, operators,
 *                photos, proofs, tasks, testmode, webhooks (each with its resolvers),
 *                and events (the task event log relayed in order to this
 *                process's live feed, and the cluster bus between replicas)
 *   infrastructure  common, db, chain, jobs, and GraphQL's building blocks the
 *                resolvers use (server/graphql/auth.ts, context.ts, money.type.ts, ...)
 *
 *   contract     server/api: the public API written once (enums, zod schemas,
 *                typed GraphQL documents, presenters); anyone may import it and
 *                it imports nothing of the server and no package but zod
 *
 * Arrows point down only. Type-only imports count for the layers (a type is a
 * dependency of the design) but not for cycles (they are gone at run time).
 */
const TRANSPORT = "^server/(rest|mcp|subscriptions|web|sessions)/|^server/graphql/(apollo|schema|admission|runner)\\.ts$";
const FEATURE = "^server/(agents|deposits|escrow|guardian|kyc|ledger|operators|photos|proofs|tasks|testmode|webhooks|events|messages|reputation|disputes|admin)/";
const INFRASTRUCTURE = "^server/(common|db|chain|jobs)/";
const COMPOSITION = "^server/(index|app|services)\\.ts$";

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A runtime import cycle makes module load order matter (undefined imports at start-up). Type-only imports are erased and do not count.",
      from: {
        path: "^server/",
        // Known: ProofPhoto and ProofPhotoHash are entities related both ways; MikroORM reads the relation through
        // an arrow function, so the load order is safe. Goes when the photo hashes move into proofs/ or the other way.
        pathNot: "^server/(photos/photo-hash|proofs/proof)\\.entity\\.ts$",
      },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "no-feature-to-transport",
      severity: "error",
      comment: "Features serve every transport alike; one that imports a transport ties its logic to one way in. Put the shared piece in the feature or in infrastructure.",
      from: { path: FEATURE },
      to: { path: TRANSPORT },
    },
    {
      name: "no-infrastructure-upwards",
      severity: "error",
      comment: "Infrastructure knows nothing of features, transports or the composition root.",
      from: {
        path: INFRASTRUCTURE,
        // The entity registry lists every feature's entities for MikroORM: that is its job.
        pathNot: "^server/db/entities\\.ts$",
      },
      to: { path: [FEATURE, TRANSPORT, COMPOSITION, "^server/graphql/"] },
    },
    {
      name: "no-rest-mcp",
      severity: "error",
      comment: "REST and MCP are sibling transports; what both need belongs to a module below them, not to one of them.",
      from: { path: "^server/(rest|mcp)/" },
      to: { path: "^server/(rest|mcp)/", pathNot: "^server/$1/" },
    },
    {
      name: "api-is-the-contract-only",
      severity: "error",
      comment:
        "server/api is what every transport and the stdio MCP package share: it loads nothing of the server (no ORM, chain, type-graphql or HTTP framework) and no package but zod.",
      from: { path: "^server/api/" },
      to: { pathNot: "^server/api/|(^|/)node_modules/zod/" },
    },
    {
      name: "stdio-mcp-is-an-http-client",
      severity: "error",
      comment:
        "The stdio MCP package (packages/mcp-server, built from server/mcp/index.ts) is an HTTP client of HumanOps: it may load server/api, the MCP client code and the pure helpers it names (errors, money, env, logger), nothing else of the server.",
      from: { path: "^server/mcp/index\\.ts$" },
      to: {
        path: "^server/",
        pathNot: "^server/api/|^server/mcp/(?!http\\.route\\.ts$|in-process\\.backend\\.ts$)|^server/common/(errors|money|env|logger)\\.ts$",
        reachable: true,
      },
    },
    {
      name: "no-composition-root-imports",
      severity: "error",
      comment: "Only the entry point wires the app; nothing below imports app.ts, services.ts or index.ts at run time (the Services type, the container's shape, may be named).",
      from: { path: "^server/", pathNot: COMPOSITION },
      to: { path: COMPOSITION, dependencyTypesNot: ["type-only"] },
    },
    {
      name: "no-server-to-tests",
      severity: "error",
      comment: "Production code does not load test or benchmark code.",
      from: { path: "^server/" },
      to: { path: "^(test|bench)/" },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import that resolves to nothing fails at run time.",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist|artifacts|cache|typechain-types|web)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["require", "node", "default"], mainFields: ["main", "types"] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
