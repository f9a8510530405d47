import {
  GraphQLError,
  Kind,
  parse,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";
import { fieldExtensionsEstimator, getComplexity, simpleEstimator, type ComplexityEstimator } from "graphql-query-complexity";
import { DomainError, ValidationError } from "../common/errors";

/**
 * What one GraphQL request may ask for, checked before anything runs (no
 * resolver, no database work), on every transport: /graphql, the REST and
 * MCP documents, and WebSocket operations. The document's shape is checked
 * before validation too, where validating it could be slow.
 *
 * Cost: every field is 1 point plus what it selects; a paged field
 * (`first`) multiplies what it selects by its page size; a list that is not
 * paged multiplies by the most items it can hold (see `listOf`).
 */
export const QUERY_BUDGET = {
  /** Points per request (cost as above). */
  cost: 25_000,
  /** Fields nested in fields. */
  depth: 15,
  /** Fields selected in all, fragments counted where they are spread. */
  fields: 500,
  /** Fields written in one selection set (no type of ours has half as many). */
  fieldsPerSelection: 100,
  /** Fields asked for under another name (`a: tasks`, `b: tasks`, ...). */
  aliases: 30,
  /** Lexical tokens in the document (the largest of HumanOps's own documents has a few hundred). */
  tokens: 3_000,
} as const;

/** The sentence the schema's descriptions end with where a field's cost is set by its size. */
export const BUDGET_NOTE =
  `Query budget: a request may cost at most ${QUERY_BUDGET.cost} points (1 per field; what a page or list selects counts once per item it can hold), ` +
  `nest ${QUERY_BUDGET.depth} levels, select ${QUERY_BUDGET.fields} fields and use ${QUERY_BUDGET.aliases} aliases; beyond that it is refused with QUERY_TOO_COMPLEX before anything runs.`;

/** A paged field: what it selects, once per item of the page it asks for (`first`). */
export const pagedCost: ComplexityEstimator = ({ args, childComplexity }) => 1 + pageSize(args.first) * Math.max(1, childComplexity);

/** A list that is not paged: what it selects, once per item it can hold at most. */
export function listOf(maxItems: number): ComplexityEstimator {
  return ({ childComplexity }) => 1 + maxItems * Math.max(1, childComplexity);
}

/** Every paged field refuses a larger page; one that asks for more is refused by the field, naming `first`. */
const MAX_PAGE_SIZE = 100;

function pageSize(first: unknown): number {
  return typeof first === "number" && first > 0 ? Math.min(first, MAX_PAGE_SIZE) : 1;
}

export class QueryTooComplexError extends DomainError {
  constructor(excess: string, actual: number, limit: number) {
    super("QUERY_TOO_COMPLEX", `this request ${excess.replace("%", String(actual))}, over the budget of ${limit}; ask for fewer fields or smaller pages (first), or split it into several requests`, undefined, {
      budget: limit,
      actual,
    });
  }
}

/**
 * Refuses, before it runs, an operation whose text inputs are not clean
 * Unicode text or that is over QUERY_BUDGET. Throws a DomainError:
 * BAD_USER_INPUT naming the field, or QUERY_TOO_COMPLEX naming the budget.
 */
export function checkOperation(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): void {
  if (!selectedOperation(document, operationName)) return;
  checkDocument(document);
  checkTextInputs(document, variables ?? {});
  checkCost(schema, document, operationName, variables);
}

/**
 * checkOperation for a document that has passed it once (its shape and the
 * text it writes out are the same every time): only what depends on this
 * request's variables, their text and the cost they set. An operation
 * without variables costs what it cost the first time.
 */
export function checkOperationVariables(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | null | undefined): void {
  for (const [name, value] of Object.entries(variables ?? {})) checkVariable(value, name);
  if (!operation.variableDefinitions?.length) return;
  checkCost(schema, document, operation.name?.value, variables);
}

function checkCost(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): void {
  const fixed = fixedCostOf(schema, document, operationName);
  // Within the budget whatever the variables: nothing to refuse (variables that do not fit are left to execution, as below).
  if (fixed.cost !== undefined && fixed.cost <= QUERY_BUDGET.cost) return;
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      operationName: operationName ?? undefined,
      variables: variables ?? {},
      estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch {
    // Variables that do not fit the operation: execution refuses them, naming the field, before any resolver runs.
    return;
  }
  if (fixed.independent) fixed.cost = cost;
  if (cost > QUERY_BUDGET.cost) throw new QueryTooComplexError("would cost % points", cost, QUERY_BUDGET.cost);
}

/** Whether an operation's cost can depend on its variables, and, once measured, what it costs when it cannot. */
interface FixedCost {
  independent: boolean;
  cost?: number;
}

const fixedCosts = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, FixedCost>>>();

/**
 * A document's cost depends on its variables only where a variable reaches
 * a field whose cost is computed from its arguments (a page's `first`), or
 * a directive (`@include(if: $x)`); any other document costs the same for
 * every request, so it is measured once (per schema, document and
 * operation) instead of walking the document again each time.
 */
function fixedCostOf(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): FixedCost {
  let bySchema = fixedCosts.get(schema);
  if (!bySchema) fixedCosts.set(schema, (bySchema = new WeakMap()));
  let byOperation = bySchema.get(document);
  if (!byOperation) bySchema.set(document, (byOperation = new Map<string, FixedCost>()));
  const key = operationName ?? "";
  let fixed = byOperation.get(key);
  if (!fixed) byOperation.set(key, (fixed = { independent: !costReadsVariables(schema, document) }));
  return fixed;
}

function costReadsVariables(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let reads = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Directive(directive) {
        if (hasVariable(directive)) reads = true;
        return false;
      },
      Field(field) {
        const definition = typeInfo.getFieldDef();
        const computed = !definition || typeof definition.extensions.complexity === "function";
        if (computed && field.arguments?.some((argument) => hasVariable(argument.value))) reads = true;
      },
    }),
  );
  return reads;
}

/** Whether a variable appears anywhere in `node` (a directive, an argument's value, a list or object within it). */
export function hasVariable(node: ASTNode): boolean {
  let found = false;
  visit(node, {
    Variable() {
      found = true;
      return false;
    },
  });
  return found;
}

/** A DomainError raised before execution, as a GraphQLError that Apollo answers with the error's HTTP status. */
export function toRequestError(err: DomainError): GraphQLError {
  return new GraphQLError(err.message, {
    extensions: { code: err.code, ...(err.field ? { field: err.field } : {}), ...(err.details ? { details: err.details } : {}), http: { status: err.httpStatus } },
  });
}

function selectedOperation(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  return operationName ? operations.find((operation) => operation.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
}

// ---- text inputs ----------------------------------------------------------

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** `path` as GraphQL's own errors spell it ("input.proofRequirements[1]"). */
function checkText(value: string, path: string): void {
  // Clients know their fields, not the name of the argument that carries them.
  const field = path.startsWith("input.") ? path.slice("input.".length) : path;
  if (value.includes("\u0000")) throw new ValidationError(field, "must not contain NUL (U+0000) characters");
  if (LONE_SURROGATE.test(value)) throw new ValidationError(field, "must be valid Unicode text (it contains an unpaired UTF-16 surrogate)");
}

/** Every string the request carries: in its variables, and in the literal arguments its document writes out. */
function checkTextInputs(document: DocumentNode, variables: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(variables)) checkVariable(value, name);
  visit(document, {
    Argument(argument) {
      checkLiteral(argument.value, argument.name.value);
      return false;
    },
  });
}

function checkVariable(value: unknown, path: string): void {
  if (typeof value === "string") return checkText(value, path);
  if (Array.isArray(value)) return value.forEach((item, index) => checkVariable(item, `${path}[${index}]`));
  if (value && typeof value === "object") for (const [key, item] of Object.entries(value)) checkVariable(item, `${path}.${key}`);
}

function checkLiteral(value: ValueNode, path: string): void {
  if (value.kind === Kind.STRING) return checkText(value.value, path);
  if (value.kind === Kind.LIST) return value.values.forEach((item, index) => checkLiteral(item, `${path}[${index}]`));
  if (value.kind === Kind.OBJECT) for (const field of value.fields) checkLiteral(field.value, `${path}.${field.name.value}`);
}

// ---- shape ----------------------------------------------------------------

interface Shape {
  depth: number;
  fields: number;
  aliases: number;
}

/**
 * Depth, fields and aliases of every operation in the document, fragments
 * counted where they are spread, and fields per selection set. Each
 * fragment is measured once, so a document that spreads fragments inside
 * fragments costs linear time to measure however large it would grow; a
 * cycle of fragments is left for validation to refuse.
 */
export function checkDocument(document: DocumentNode): void {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const measured = new Map<string, Shape>();
  const none: Shape = { depth: 0, fields: 0, aliases: 0 };
  const fragmentShape = (name: string): Shape => {
    const known = measured.get(name);
    if (known) return known;
    measured.set(name, none);
    const fragment = fragments.get(name);
    const shape = fragment ? measure(fragment.selectionSet) : none;
    measured.set(name, shape);
    return shape;
  };
  const measure = (selectionSet: SelectionSetNode): Shape => {
    const shape: Shape = { depth: 0, fields: 0, aliases: 0 };
    const add = (inner: Shape, depthOffset: number) => {
      shape.depth = Math.max(shape.depth, inner.depth + depthOffset);
      shape.fields += inner.fields;
      shape.aliases += inner.aliases;
    };
    const selected = fieldsIn(selectionSet);
    // graphql-js compares the fields of one selection set pairwise while validating: many of them cost quadratic time.
    if (selected > QUERY_BUDGET.fieldsPerSelection) throw new QueryTooComplexError("selects % fields in one selection set", selected, QUERY_BUDGET.fieldsPerSelection);
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        add({ depth: 1, fields: 1, aliases: selection.alias ? 1 : 0 }, 0);
        if (selection.selectionSet) add(measure(selection.selectionSet), 1);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        add(measure(selection.selectionSet), 0);
      } else {
        add(fragmentShape(selection.name.value), 0);
      }
    }
    return shape;
  };
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const shape = measure(definition.selectionSet);
    if (shape.depth > QUERY_BUDGET.depth) throw new QueryTooComplexError("nests fields % deep", shape.depth, QUERY_BUDGET.depth);
    if (shape.aliases > QUERY_BUDGET.aliases) throw new QueryTooComplexError("uses % aliases", shape.aliases, QUERY_BUDGET.aliases);
    if (shape.fields > QUERY_BUDGET.fields) throw new QueryTooComplexError("selects % fields", shape.fields, QUERY_BUDGET.fields);
  }
}

/** Fields written in a selection set itself, those of its inline fragments included. */
function fieldsIn(selectionSet: SelectionSetNode): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) count += 1;
    else if (selection.kind === Kind.INLINE_FRAGMENT) count += fieldsIn(selection.selectionSet);
  }
  return count;
}

/**
 * For a GraphQL source about to be validated: parses it within the token
 * budget and checks its shape, so a document that would be slow to
 * validate is refused first. A syntax error is left for the caller's own
 * parse to report.
 */
export function checkSource(source: string): void {
  let document: DocumentNode;
  try {
    document = parse(source, { maxTokens: QUERY_BUDGET.tokens });
  } catch {
    return;
  }
  checkDocument(document);
}
