import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { AgentResolver } from "../agents/agent.resolver";
import { OperatorResolver } from "../operators/operator.resolver";
import { TaskResolver } from "../tasks/task.resolver";
import { ProofResolver } from "../proofs/proof.resolver";
import { CostResolver } from "../tasks/cost.resolver";

export const RESOLVERS = [AgentResolver, OperatorResolver, TaskResolver, ProofResolver, CostResolver] as const;

/** The single API surface: REST and MCP run operations against this same schema. */
export async function createSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: [...RESOLVERS], validate: false, emitSchemaFile: false });
}

/** The checked-in schema.graphql text: sorted, so it changes only when the API does. */
export function printSchemaFile(schema: GraphQLSchema): string {
  return `# Generated from the code by \`npm run schema\`; do not edit.\n\n${printSchema(lexicographicSortSchema(schema))}\n`;
}
