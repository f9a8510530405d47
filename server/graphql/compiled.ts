import {
  defaultFieldResolver,
  getArgumentValues,
  getNullableType,
  getOperationAST,
  getVariableValues,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLLeafType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import type { Context } from "./context";
import { hasVariable } from "./query-budget";

/**
 * A query document compiled once into the fields it resolves, for the
 * documents that run again and again unchanged (REST's and MCP's, and the
 * documents the direct /graphql path has accepted before). Running it calls
 * the same field resolvers with the same arguments as graphql-js's execute,
 * in the same order, and serializes leaves with the same scalars and enums,
 * so a success answers the same data; what it leaves out is the executor's
 * work on every request: collecting each object's fields, computing
 * arguments that no variable reaches, making a resolve info per field, and
 * tracking paths for errors.
 *
 * Anything that fails (a resolver throws, a non-null field is null, a leaf
 * does not serialize) is not answered here: the caller runs the document
 * through graphql-js's execute instead, which words the errors and the
 * partial data as /graphql always has. The documents are reads, so running
 * one again is safe.
 */
export interface CompiledQuery {
  /** The data of a successful execution; rejects on any error (run the document through graphql-js then). */
  run(ctx: Context, variables: Record<string, unknown> | undefined): Promise<Record<string, unknown>>;
}

interface FieldPlan {
  key: string;
  /** __typename: the parent type's name, no resolver. */
  typename?: string;
  /** The field's own resolver; undefined for graphql-js's default (the source's property). */
  resolve?: GraphQLFieldResolver<unknown, Context>;
  /** Arguments fixed by the document (no variable reaches them), computed once. */
  args?: Record<string, unknown>;
  field: GraphQLField<unknown, unknown>;
  info: Omit<GraphQLResolveInfo, "variableValues" | "path" | "rootValue">;
  complete: Completer;
}

type Completer = (value: unknown, ctx: Context, variables: Record<string, unknown>) => unknown;

/** Not compiled: the document uses something this executor leaves to graphql-js (directives, abstract types, a subscription). */
class NotCompilable extends Error {}

/** Thrown while running: the caller falls back to graphql-js. */
class CompiledQueryFailed extends Error {}

const documents = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string | undefined, CompiledQuery | null>>>();

/**
 * The compiled query of `document`'s operation (a document validated against
 * `schema`), made once per schema, document and operation name; undefined
 * when it cannot be compiled (then execute it as before).
 */
export function compiledQuery(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): CompiledQuery | undefined {
  let bySchema = documents.get(schema);
  if (!bySchema) documents.set(schema, (bySchema = new WeakMap()));
  let byName = bySchema.get(document);
  if (!byName) bySchema.set(document, (byName = new Map<string | undefined, CompiledQuery | null>()));
  const name = operationName ?? undefined;
  let compiled = byName.get(name);
  if (compiled === undefined) {
    try {
      compiled = compile(schema, document, name);
    } catch (err) {
      if (!(err instanceof NotCompilable)) throw err;
      compiled = null;
    }
    byName.set(name, compiled);
  }
  return compiled ?? undefined;
}

function compile(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined): CompiledQuery {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== OperationTypeNode.QUERY) throw new NotCompilable();
  const queryType = schema.getQueryType();
  if (!queryType) throw new NotCompilable();
  const fragments: Record<string, FragmentDefinitionNode> = Object.create(null) as Record<string, FragmentDefinitionNode>;
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  if (operation.directives?.length) throw new NotCompilable();
  const fields = plan(schema, fragments, operation, queryType, [operation.selectionSet]);
  const variableDefinitions = operation.variableDefinitions ?? [];
  return {
    async run(ctx, inputs) {
      let variables: Record<string, unknown> = {};
      if (variableDefinitions.length) {
        const coerced = getVariableValues(schema, variableDefinitions, inputs ?? {}, { maxErrors: 1 });
        if (coerced.errors) throw new CompiledQueryFailed("variables");
        variables = coerced.coerced;
      }
      return (await resolveObject(fields, undefined, ctx, variables)) as Record<string, unknown>;
    },
  };
}

/** The fields of `type` that `selectionSets` select, merged by response key as graphql-js collects them. */
function plan(
  schema: GraphQLSchema,
  fragments: Record<string, FragmentDefinitionNode>,
  operation: OperationDefinitionNode,
  type: GraphQLObjectType,
  selectionSets: readonly SelectionSetNode[],
): FieldPlan[] {
  const byKey = new Map<string, FieldNode[]>();
  const visit = (set: SelectionSetNode, seen: Set<string>) => {
    for (const selection of set.selections) {
      if (selection.directives?.length) throw new NotCompilable();
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const nodes = byKey.get(key);
        if (nodes) nodes.push(selection);
        else byKey.set(key, [selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (selection.typeCondition && selection.typeCondition.name.value !== type.name) throw new NotCompilable();
        visit(selection.selectionSet, seen);
      } else {
        const name = selection.name.value;
        if (seen.has(name)) continue;
        seen.add(name);
        const fragment = fragments[name];
        if (!fragment || fragment.typeCondition.name.value !== type.name || fragment.directives?.length) throw new NotCompilable();
        visit(fragment.selectionSet, seen);
      }
    }
  };
  const seen = new Set<string>();
  for (const set of selectionSets) visit(set, seen);
  const plans: FieldPlan[] = [];
  for (const [key, nodes] of byKey) {
    const node = nodes[0];
    const fieldName = node.name.value;
    if (fieldName === "__typename") {
      plans.push({ key, typename: type.name } as FieldPlan);
      continue;
    }
    const field = type.getFields()[fieldName] as GraphQLField<unknown, unknown> | undefined;
    // Introspection (__schema, __type) and anything the schema does not have: graphql-js.
    if (!field) throw new NotCompilable();
    const childSets = nodes.flatMap((fieldNode) => (fieldNode.selectionSet ? [fieldNode.selectionSet] : []));
    plans.push({
      key,
      resolve: field.resolve === defaultFieldResolver ? undefined : (field.resolve as GraphQLFieldResolver<unknown, Context> | undefined),
      args: node.arguments?.some((argument) => hasVariable(argument.value)) ? undefined : getArgumentValues(field, node),
      field,
      info: { fieldName, fieldNodes: nodes, returnType: field.type, parentType: type, schema, fragments, operation },
      complete: completer(schema, fragments, operation, field.type, childSets),
    });
  }
  return plans;
}

/** How a field's value becomes its answer: null, a serialized leaf, a list, or an object of its own fields. */
function completer(
  schema: GraphQLSchema,
  fragments: Record<string, FragmentDefinitionNode>,
  operation: OperationDefinitionNode,
  type: GraphQLOutputType,
  selectionSets: readonly SelectionSetNode[],
): Completer {
  const nonNull = isNonNullType(type);
  const inner = getNullableType(type);
  let complete: Completer;
  if (isListType(inner)) {
    const item = completer(schema, fragments, operation, inner.ofType, selectionSets);
    complete = (value, ctx, variables) => {
      if (!Array.isArray(value)) throw new CompiledQueryFailed("not a list");
      const items = value.map((entry) => item(entry, ctx, variables));
      return items.some(isPromise) ? Promise.all(items) : items;
    };
  } else if (isLeafType(inner)) {
    const leaf: GraphQLLeafType = inner;
    complete = (value) => {
      const serialized = leaf.serialize(value);
      if (serialized === undefined) throw new CompiledQueryFailed("not serializable");
      return serialized;
    };
  } else if (isObjectType(inner)) {
    const object = inner;
    // As deep as the document selects (a validated document has no fragment cycles).
    const fields = plan(schema, fragments, operation, object, selectionSets);
    complete = (value, ctx, variables) => {
      if (object.isTypeOf) {
        const isType = object.isTypeOf(value, ctx, undefined as never);
        if (isPromise(isType)) {
          return isType.then((yes) => {
            if (!yes) throw new CompiledQueryFailed("isTypeOf");
            return resolveObject(fields, value, ctx, variables);
          });
        }
        if (!isType) throw new CompiledQueryFailed("isTypeOf");
      }
      return resolveObject(fields, value, ctx, variables);
    };
  } else {
    // An interface or union: which object type it is, graphql-js decides.
    throw new NotCompilable();
  }
  return (value, ctx, variables) => {
    if (value == null || value instanceof Error) {
      if (nonNull || value instanceof Error) throw new CompiledQueryFailed("null");
      return null;
    }
    return complete(value, ctx, variables);
  };
}

function resolveObject(fields: FieldPlan[], source: unknown, ctx: Context, variables: Record<string, unknown>): unknown {
  const values: unknown[] = new Array(fields.length);
  let pending = false;
  for (let i = 0; i < fields.length; i++) {
    const value = resolveField(fields[i], source, ctx, variables);
    if (isPromise(value)) pending = true;
    values[i] = value;
  }
  const build = (resolved: unknown[]) => {
    const answer: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (let i = 0; i < fields.length; i++) answer[fields[i].key] = resolved[i];
    return answer;
  };
  return pending ? Promise.all(values).then(build) : build(values);
}

function resolveField(field: FieldPlan, source: unknown, ctx: Context, variables: Record<string, unknown>): unknown {
  if (field.typename !== undefined) return field.typename;
  let value: unknown;
  const property = field.resolve || source == null ? undefined : (source as Record<string, unknown>)[field.info.fieldName];
  if (field.resolve || typeof property === "function") {
    const args = field.args ?? getArgumentValues(field.field, field.info.fieldNodes[0], variables);
    const info = new ResolveInfo(field, variables) as unknown as GraphQLResolveInfo;
    // graphql-js's default resolver calls a method of the source with (args, context, info).
    value = field.resolve ? field.resolve(source, args, ctx, info) : (property as (...params: unknown[]) => unknown).call(source, args, ctx, info);
  } else {
    value = property;
  }
  if (isPromise(value)) return value.then((resolved) => field.complete(resolved, ctx, variables));
  return field.complete(value, ctx, variables);
}

/** A resolve info with one shape for every field (an object spread per field was a sixth of a task read's CPU). */
class ResolveInfo {
  readonly fieldName: string;
  readonly fieldNodes: readonly FieldNode[];
  readonly returnType: GraphQLOutputType;
  readonly parentType: GraphQLObjectType;
  readonly path: { prev: undefined; key: string; typename: string };
  readonly schema: GraphQLSchema;
  readonly fragments: Record<string, FragmentDefinitionNode>;
  readonly rootValue: undefined = undefined;
  readonly operation: OperationDefinitionNode;
  readonly variableValues: Record<string, unknown>;

  constructor({ info, key }: FieldPlan, variables: Record<string, unknown>) {
    this.fieldName = info.fieldName;
    this.fieldNodes = info.fieldNodes;
    this.returnType = info.returnType;
    this.parentType = info.parentType;
    // The field's key alone: resolvers do not read it, and an error is worded by graphql-js's run.
    this.path = { prev: undefined, key, typename: info.parentType.name };
    this.schema = info.schema;
    this.fragments = info.fragments;
    this.operation = info.operation;
    this.variableValues = variables;
  }
}

export function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
