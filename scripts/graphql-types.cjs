"use strict";
/**
 * Types GraphQL operations against the API's schema, for the two clients
 * of it this repository holds:
 *
 * - web: the web app's operations (web/src/graphql/*.graphql) into
 *   web/src/graphql/operations.generated.ts, written by the web build step;
 * - api: the operations REST and MCP run (server/api/operations/*.graphql)
 *   into server/api/operations.generated.ts, checked in beside
 *   schema.graphql (a test fails when it is stale).
 *
 * Each operation is validated against schema.graphql with graphql-js (the
 * same rules the server applies), and becomes one constant carrying its text
 * (with the fragments it spreads) and, as phantom types, the shape of its
 * variables and of its result; each fragment's shape is a type of its own.
 * An operation that no longer matches the schema (a field renamed, an
 * argument gone) fails here with the operation's file and line; a result
 * field the code reads that an operation no longer selects fails the
 * TypeScript check that follows. The file is rewritten only when its text
 * changes, so an unchanged build leaves its mtime (and the build's
 * fingerprint) alone.
 *
 *   node scripts/graphql-types.cjs web
 *   node scripts/graphql-types.cjs api      # npm run graphql-types
 */
const fs = require("node:fs");
const path = require("node:path");
const {
  buildSchema,
  parse,
  validate,
  print,
  Source,
  visit,
  isNonNullType,
  isListType,
  isScalarType,
  isEnumType,
  isObjectType,
  isInterfaceType,
  isUnionType,
  isInputObjectType,
  typeFromAST,
  Kind,
} = require("graphql");

const ROOT = path.resolve(__dirname, "..");
const SCHEMA = path.join(ROOT, "schema.graphql");
/** Where each client's operations are and where their types go. */
const TARGETS = {
  web: { name: "the web app", schema: SCHEMA, operations: path.join(ROOT, "web", "src", "graphql"), output: path.join(ROOT, "web", "src", "graphql", "operations.generated.ts") },
  api: { name: "the REST and MCP API", schema: SCHEMA, operations: path.join(ROOT, "server", "api", "operations"), output: path.join(ROOT, "server", "api", "operations.generated.ts") },
};

/** How each custom scalar of schema.graphql travels in JSON. */
const SCALARS = { ID: "string", String: "string", Int: "number", Float: "number", Boolean: "boolean", DateTimeISO: "string", UsdAmount: "string | number" };

function scalarType(type) {
  const ts = SCALARS[type.name];
  if (!ts) throw new Error(`graphql-types: no TypeScript type for the scalar ${type.name}: add it to SCALARS in scripts/graphql-types.cjs`);
  return ts;
}

/** A TypeScript type for an output type, with the selection made on it. */
function outputType(type, selectionSet, fragments, indent) {
  if (isNonNullType(type)) return nonNullOutput(type.ofType, selectionSet, fragments, indent);
  return `${nonNullOutput(type, selectionSet, fragments, indent)} | null`;
}

function nonNullOutput(type, selectionSet, fragments, indent) {
  if (isListType(type)) return `Array<${outputType(type.ofType, selectionSet, fragments, indent)}>`;
  if (isScalarType(type)) return scalarType(type);
  if (isEnumType(type)) return enumName(type);
  if (isObjectType(type) || isInterfaceType(type) || isUnionType(type)) return objectType(type, selectionSet, fragments, indent);
  throw new Error(`graphql-types: unexpected output type ${type}`);
}

/** The fields a selection set picks on a type, fragments and inline fragments on that same type merged in. */
function objectType(type, selectionSet, fragments, indent) {
  const fields = new Map();
  const collect = (set, on) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.alias?.value ?? selection.name.value;
        if (selection.name.value === "__typename") {
          fields.set(name, JSON.stringify(on.name));
          continue;
        }
        const field = on.getFields()[selection.name.value];
        const conditional = selection.directives?.some((d) => d.name.value === "include" || d.name.value === "skip");
        fields.set(name + (conditional ? "?" : ""), outputType(field.type, selection.selectionSet, fragments, `${indent}  `));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (selection.typeCondition && selection.typeCondition.name.value !== on.name) throw new Error(`graphql-types: fragments on another type (${selection.typeCondition.name.value}) are not supported`);
        collect(selection.selectionSet, on);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment.typeCondition.name.value !== on.name) throw new Error(`graphql-types: fragment ${fragment.name.value} is on another type than ${on.name}`);
        collect(fragment.selectionSet, on);
      }
    }
  };
  if (!isObjectType(type)) throw new Error(`graphql-types: selections on the abstract type ${type.name} are not supported`);
  // A selection that is one fragment and nothing else has that fragment's type, by name.
  const [only, ...others] = selectionSet.selections;
  if (!others.length && only.kind === Kind.FRAGMENT_SPREAD && !only.directives?.length) {
    const fragment = fragments.get(only.name.value);
    if (fragment.typeCondition.name.value !== type.name) throw new Error(`graphql-types: fragment ${fragment.name.value} is on another type than ${type.name}`);
    return `${fragment.name.value}Fragment`;
  }
  collect(selectionSet, type);
  const lines = [...fields].map(([name, ts]) => `${indent}  ${name}: ${ts};`);
  return `{\n${lines.join("\n")}\n${indent}}`;
}

/** A TypeScript type for an input type (what variables may hold). */
function inputType(type, indent, named) {
  if (isNonNullType(type)) return nonNullInput(type.ofType, indent, named);
  return `${nonNullInput(type, indent, named)} | null`;
}

function nonNullInput(type, indent, named) {
  if (isListType(type)) return `Array<${inputType(type.ofType, indent, named)}>`;
  if (isScalarType(type)) return scalarType(type);
  if (isEnumType(type)) return enumName(type);
  if (isInputObjectType(type)) {
    named.add(type);
    return type.name;
  }
  throw new Error(`graphql-types: unexpected input type ${type}`);
}

/** Enums the generated types name, written out at the end. */
const ENUMS = new Set();
const enumName = (type) => (ENUMS.add(type.name), type.name);

/**
 * Validates and types every operation of a target ("web", the default, or
 * "api"); `options` point it elsewhere (the tests do).
 */
function main(options = {}) {
  const target = TARGETS[options.target ?? "web"];
  if (!target) throw new Error(`graphql-types: no target ${options.target} (one of ${Object.keys(TARGETS).join(", ")})`);
  const { name: client, schema: schemaPath, operations: OPERATIONS, output: OUTPUT } = { ...target, ...options };
  ENUMS.clear();
  const schema = buildSchema(fs.readFileSync(schemaPath, "utf8"));
  const files = fs.readdirSync(OPERATIONS).filter((name) => name.endsWith(".graphql")).sort();
  const documents = files.map((name) => {
    const body = fs.readFileSync(path.join(OPERATIONS, name), "utf8");
    return parse(new Source(body, path.relative(ROOT, path.join(OPERATIONS, name))));
  });
  const fragments = new Map();
  for (const doc of documents) for (const def of doc.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);

  const problems = [];
  for (const doc of documents) {
    // Each file is validated with every fragment of the app in scope, as it is sent.
    const operations = doc.definitions.filter((def) => def.kind === Kind.OPERATION_DEFINITION);
    for (const operation of operations) {
      const used = usedFragments(operation, fragments);
      const errors = validate(schema, { kind: Kind.DOCUMENT, definitions: [operation, ...used] });
      for (const error of errors) {
        const where = error.locations?.[0];
        const file = operation.loc?.source.name ?? "?";
        problems.push(`${file}${where && error.source === operation.loc?.source ? `:${where.line}:${where.column}` : ""}: ${operation.name?.value ?? "anonymous"}: ${error.message}`);
      }
      if (!operation.name) problems.push(`${operation.loc?.source.name}: every operation needs a name`);
    }
  }
  if (problems.length) {
    throw new Error(`GraphQL operations of ${client} do not match schema.graphql:\n  ${problems.join("\n  ")}`);
  }

  const out = [];
  const enums = ENUMS;
  const inputs = new Set();
  out.push(`// Generated by scripts/graphql-types.cjs from ${path.relative(ROOT, OPERATIONS)}/*.graphql and schema.graphql; do not edit.`);
  out.push("/** An operation's text, typed with its result and its variables. */");
  out.push("export type TypedDocument<Result, Variables> = string & { readonly __result?: Result; readonly __variables?: Variables };");
  out.push("");
  // Each fragment's shape, by name, for components that take what a fragment selects.
  for (const [name, fragment] of fragments) {
    out.push(`export type ${name}Fragment = ${objectType(schema.getType(fragment.typeCondition.name.value), fragment.selectionSet, fragments, "")};`);
    out.push("");
  }
  const seen = new Set();
  for (const doc of documents) {
    for (const operation of doc.definitions.filter((def) => def.kind === Kind.OPERATION_DEFINITION)) {
      const name = operation.name.value;
      if (seen.has(name)) throw new Error(`graphql-types: two operations are named ${name}`);
      seen.add(name);
      const root = operation.operation === "query" ? schema.getQueryType() : operation.operation === "mutation" ? schema.getMutationType() : schema.getSubscriptionType();
      const result = objectType(root, operation.selectionSet, fragments, "");
      const variables = (operation.variableDefinitions ?? []).map((def) => {
        const type = typeFromAST(schema, def.type);
        const optional = !isNonNullType(type) || def.defaultValue ? "?" : "";
        return `  ${def.variable.name.value}${optional}: ${inputType(type, "  ", inputs)};`;
      });
      const text = [operation, ...usedFragments(operation, fragments)].map((def) => print(def)).join("\n");
      out.push(`export type ${name}Result = ${result};`);
      out.push(`export type ${name}Variables = ${variables.length ? `{\n${variables.join("\n")}\n}` : "Record<string, never>"};`);
      out.push(`export const ${name} = ${JSON.stringify(text)} as TypedDocument<${name}Result, ${name}Variables>;`);
      out.push("");
    }
  }
  // Input objects, and the enums that inputs and results name.
  const pending = [...inputs];
  const written = new Set();
  while (pending.length) {
    const type = pending.shift();
    if (written.has(type.name)) continue;
    written.add(type.name);
    const fieldLines = Object.values(type.getFields()).map((field) => {
      const nested = new Set();
      const ts = inputType(field.type, "  ", nested);
      pending.push(...nested);
      return `  ${field.name}${isNonNullType(field.type) && field.defaultValue === undefined ? "" : "?"}: ${ts};`;
    });
    out.push(`export type ${type.name} = {\n${fieldLines.join("\n")}\n};`);
  }
  for (const name of [...enums].sort()) {
    const type = schema.getType(name);
    out.push(`export type ${name} = ${type.getValues().map((value) => JSON.stringify(value.name)).join(" | ")};`);
    out.push(`export const ${name}Values: readonly ${name}[] = ${JSON.stringify(type.getValues().map((value) => value.name))};`);
  }
  const text = `${out.join("\n")}\n`;
  const before = fs.existsSync(OUTPUT) ? fs.readFileSync(OUTPUT, "utf8") : undefined;
  if (before !== text) fs.writeFileSync(OUTPUT, text);
  return { operations: seen.size, written: before !== text };
}

/** The fragments an operation spreads, directly or through other fragments. */
function usedFragments(operation, fragments) {
  const used = new Map();
  const walk = (node) =>
    visit(node, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (used.has(name) || !fragments.has(name)) return;
        used.set(name, fragments.get(name));
        walk(fragments.get(name));
      },
    });
  walk(operation);
  return [...used.values()];
}

module.exports = { generate: main };

if (require.main === module) {
  try {
    const target = process.argv[2] ?? "web";
    const { operations, written } = main({ target });
    process.stderr.write(`graphql-types: ${operations} operations of ${TARGETS[target].name} typed${written ? "" : " (unchanged)"}\n`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
