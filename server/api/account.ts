import { z } from "zod";
import { KycStatus, KycView, oneOf, restMode } from "./enums";
import { component, dateTime, uuid } from "./json-schema";
import type { AgentBalanceResult, RegisterAgentResult, RegisterOperatorResult, StartKycResult } from "./operations.generated";
import { ModeSchema } from "./task";

/** Agents and operators as REST shows them: registration, balance and identity verification. */

/** What the account operations select (server/api/operations/rest.graphql), as schema.graphql types it. */
export type GqlAgentRegistration = RegisterAgentResult["registerAgent"];
export type GqlAgentBalance = AgentBalanceResult["viewerAgent"];
export type GqlOperatorRegistration = RegisterOperatorResult["registerOperator"];
export type GqlKycSession = StartKycResult["startKyc"];

export const AgentRegistrationSchema = component(
  "AgentRegistration",
  z.strictObject({
    agent_id: uuid(),
    name: z.string(),
    email: z.string().meta({ format: "email" }),
    mode: z.literal("test").describe("A new agent starts in test mode; live keys come once its wallet is linked"),
    api_key: z.string().regex(/^ho_test_/).describe("Shown once: store it now. Only its hash is kept."),
    created_at: dateTime(),
  }),
);

export const AgentBalanceSchema = component(
  "AgentBalance",
  z.strictObject({
    agent_id: uuid(),
    mode: ModeSchema,
    balance_usd: z
      .string()
      .regex(/^-?\d+\.\d{2,6}$/)
      .describe("Spendable balance in the key's mode; money locked in escrow is not included"),
    currency: z.literal("USDC"),
  }),
);

export const OperatorRegistrationSchema = component(
  "OperatorRegistration",
  z.strictObject({
    operator_id: uuid(),
    name: z.string(),
    payout_address: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/)
      .describe("EIP-55 checksummed Base address the operator is paid to"),
    kyc_status: z.enum(KycStatus).describe("Identity verification for live tasks (the live key): accepting them needs APPROVED"),
    test_kyc_status: z.literal(KycView.NOT_REQUIRED).describe("Test tasks (the test key) need no identity verification"),
    test_api_key: z.string().regex(/^ho_test_/).describe("For test tasks. Shown once."),
    live_api_key: z.string().regex(/^ho_live_/).describe("For live tasks. Shown once."),
    created_at: dateTime(),
  }),
);

export const KycSessionSchema = component(
  "KycSession",
  z.strictObject({
    applicant_id: z.string().describe("The operator's Sumsub applicant (one per operator)"),
    access_token: z.string().describe("Opens Sumsub's WebSDK for this applicant; a fresh one on every call"),
    expires_at: dateTime(),
    level_name: z.string().describe("The Sumsub verification level"),
    kyc_status: z.enum(KycStatus),
  }),
);

/** A key's mode as its prefix tells it. */
function modeOfKey(apiKey: string): "test" | "live" {
  return apiKey.startsWith("ho_live_") ? "live" : "test";
}

export function presentAgentRegistration(result: GqlAgentRegistration): z.output<typeof AgentRegistrationSchema> {
  const { agent } = result;
  return { agent_id: agent.id, name: agent.name, email: agent.email, mode: modeOfKey(result.apiKey) as "test", api_key: result.apiKey, created_at: agent.createdAt };
}

export function presentAgentBalance(agent: GqlAgentBalance): z.output<typeof AgentBalanceSchema> {
  return { agent_id: agent.id, mode: restMode(agent.mode), balance_usd: agent.balance.usd, currency: "USDC" };
}

export function presentOperatorRegistration(result: GqlOperatorRegistration): z.output<typeof OperatorRegistrationSchema> {
  const { operator } = result;
  return {
    operator_id: operator.id,
    name: operator.name,
    payout_address: operator.payoutAddress,
    kyc_status: oneOf(Object.values(KycStatus), operator.kycStatus, "an operator's kycStatus"),
    test_kyc_status: KycView.NOT_REQUIRED,
    test_api_key: result.testApiKey,
    live_api_key: result.liveApiKey,
    created_at: operator.createdAt,
  };
}

export function presentKycSession(session: GqlKycSession): z.output<typeof KycSessionSchema> {
  return {
    applicant_id: session.applicantId,
    access_token: session.accessToken,
    expires_at: session.expiresAt,
    level_name: session.levelName,
    kyc_status: oneOf(Object.values(KycStatus), session.kycStatus, "a KYC session's kycStatus"),
  };
}
