// Deploys TaskEscrow with Hardhat Ignition and records deployments/<chainId>.json for the server.
//
//   TREASURY_ADDRESS=0x… GUARDIAN_ADDRESS=0x… DEPLOYER_PRIVATE_KEY=0x… \
//     npx hardhat run scripts/deploy.ts --network baseSepolia
//
// Environment: TREASURY_ADDRESS and GUARDIAN_ADDRESS (required on Base and Base Sepolia; default to the deployer on a
// local chain), ADMIN_ADDRESS and PAUSER_ADDRESS (default: the deployer), ADMIN_DELAY_SECONDS (default 2 days),
// USDC_ADDRESS (default: Circle's USDC on Base / Base Sepolia; on a local chain a fresh TestUSDC).
import fs from "node:fs";
import path from "node:path";
import hre, { ethers } from "hardhat";
import TaskEscrowModule, { USDC_BY_CHAIN_ID } from "../ignition/modules/TaskEscrow";
import TestUSDCModule from "../ignition/modules/TestUSDC";

const LOCAL_CHAIN_ID = 31337;

interface Deployment {
  chainId: number;
  taskEscrow: string;
  usdc: string;
  deployBlock: number;
  guardian: string;
  treasury: string;
}

function address(name: string, fallback: string | undefined): string {
  const value = process.env[name] ?? fallback;
  if (!value) throw new Error(`${name} is required on this network`);
  if (!ethers.isAddress(value)) throw new Error(`${name} is not an address: ${String(value)}`);
  return ethers.getAddress(value);
}

async function usdcAddress(chainId: number): Promise<string> {
  const known = process.env.USDC_ADDRESS ?? USDC_BY_CHAIN_ID[chainId];
  if (known) return address("USDC_ADDRESS", known);
  if (chainId !== LOCAL_CHAIN_ID) throw new Error(`no USDC known for chain ${chainId}: set USDC_ADDRESS`);
  const { testUsdc } = await hre.ignition.deploy(TestUSDCModule);
  return testUsdc.getAddress();
}

/** The block whose transactions created `contract`, searched in (after, latest]. */
async function creationBlock(contract: string, after: number): Promise<number> {
  const hasCode = async (block: number) => (await ethers.provider.getCode(contract, block)) !== "0x";
  if (await hasCode(after)) {
    throw new Error(`${contract} existed before this run (Ignition reused an earlier deployment): keep its record`);
  }
  let [low, high] = [after + 1, await ethers.provider.getBlockNumber()];
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (await hasCode(middle)) high = middle;
    else low = middle + 1;
  }
  return low;
}

async function main(): Promise<void> {
  const [deployer] = await ethers.getSigners();
  const chainId = Number((await ethers.provider.getNetwork()).chainId);
  const local = chainId === LOCAL_CHAIN_ID;
  const before = await ethers.provider.getBlockNumber();

  const usdc = await usdcAddress(chainId);
  const treasury = address("TREASURY_ADDRESS", local ? deployer.address : undefined);
  const guardian = address("GUARDIAN_ADDRESS", local ? deployer.address : undefined);
  const parameters = {
    TaskEscrow: {
      usdc,
      treasury,
      guardian,
      admin: address("ADMIN_ADDRESS", deployer.address),
      pauser: address("PAUSER_ADDRESS", deployer.address),
      adminDelay: Number(process.env.ADMIN_DELAY_SECONDS ?? 2 * 24 * 60 * 60),
    },
  };
  const { taskEscrow } = await hre.ignition.deploy(TaskEscrowModule, { parameters });
  const taskEscrowAddress = await taskEscrow.getAddress();
  const file = path.join(__dirname, "..", "deployments", `${chainId}.json`);
  if (fs.existsSync(file) && (JSON.parse(fs.readFileSync(file, "utf8")) as Deployment).taskEscrow === taskEscrowAddress) {
    console.log(`TaskEscrow ${taskEscrowAddress} is already deployed and recorded in ${path.relative(process.cwd(), file)}`);
    return;
  }

  const deployment: Deployment = {
    chainId,
    taskEscrow: taskEscrowAddress,
    usdc,
    deployBlock: await creationBlock(taskEscrowAddress, before),
    guardian,
    treasury,
  };
  const json = `${JSON.stringify(deployment, null, 2)}\n`;
  if (hre.network.name === "hardhat") {
    // The in-process chain vanishes when this script exits: show the record, write nothing.
    process.stdout.write(json);
    return;
  }
  fs.writeFileSync(file, json);
  console.log(`TaskEscrow ${taskEscrowAddress} on chain ${chainId}, recorded in ${path.relative(process.cwd(), file)}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
