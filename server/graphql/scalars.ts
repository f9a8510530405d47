import { GraphQLError, GraphQLScalarType, Kind } from "graphql";

/**
 * A USD amount as a decimal string ("15", "12.50") or a number (15, 12.5).
 * The exact rules (positive, at most 6 decimals) are checked by the service,
 * which names the field in its error.
 */
export const UsdAmountScalar = new GraphQLScalarType<string, string>({
  name: "UsdAmount",
  description: "A USD amount: a decimal string (\"15\", \"12.50\") or a number. At most 6 decimals (USDC precision).",
  serialize(value) {
    return String(value);
  },
  parseValue(value) {
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
    if (typeof value === "string") return value;
    throw new GraphQLError("must be a decimal string or a number");
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.INT || ast.kind === Kind.FLOAT || ast.kind === Kind.STRING) return ast.value;
    throw new GraphQLError("must be a decimal string or a number");
  },
});
