import { ForbiddenError, UnauthenticatedError } from "../common/errors";
import type { AgentPrincipal, OperatorPrincipal } from "../tasks/task.service";
import type { Context } from "./context";
import type { AdminPrincipal } from "../admin/admin.service";

export function requireAdmin(ctx: Context): AdminPrincipal {
  if (ctx.admin) return ctx.admin;
  if (!ctx.principal) throw ctx.authError ?? new UnauthenticatedError();
  throw new ForbiddenError("this operation needs a platform admin key (ho_admin_...)");
}

export function requireAgent(ctx: Context): AgentPrincipal {
  if (ctx.admin) throw new ForbiddenError("this operation needs an agent's API key, not an admin key");
  if (!ctx.principal) throw ctx.authError ?? new UnauthenticatedError();
  if (ctx.principal.kind !== "agent") throw new ForbiddenError("this operation needs an agent's API key");
  return ctx.principal;
}

export function requireOperator(ctx: Context): OperatorPrincipal {
  if (ctx.admin) throw new ForbiddenError("this operation needs an operator's API key, not an admin key");
  if (!ctx.principal) throw ctx.authError ?? new UnauthenticatedError();
  if (ctx.principal.kind !== "operator") throw new ForbiddenError("this operation needs an operator's API key");
  return ctx.principal;
}
