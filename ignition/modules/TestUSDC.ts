import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/** TestUSDC, for local chains only: the deploying account owns its mint and blacklist. */
export default buildModule("TestUSDC", (m) => ({ testUsdc: m.contract("TestUSDC") }));
