import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/** USDC (Circle's FiatToken v2.2, with EIP-3009) on the chains HumanOps deploys to, by chain id. */
export const USDC_BY_CHAIN_ID: Readonly<Record<number, string>> = {
  8453: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", // Base
  84532: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", // Base Sepolia
};

/**
 * TaskEscrow. Parameters (module id "TaskEscrow"):
 * - usdc, treasury, guardian: required;
 * - admin, pauser: default to the deploying account;
 * - adminDelay: seconds a default-admin transfer waits before it can be accepted, default 2 days.
 */
export default buildModule("TaskEscrow", (m) => {
  const deployer = m.getAccount(0);
  const taskEscrow = m.contract("TaskEscrow", [
    m.getParameter<string>("usdc"),
    m.getParameter<string>("treasury"),
    m.getParameter("admin", deployer),
    m.getParameter("adminDelay", 2 * 24 * 60 * 60),
    m.getParameter<string>("guardian"),
    m.getParameter("pauser", deployer),
  ]);
  return { taskEscrow };
});
