// Gas of TaskEscrow's fund-moving calls on the local Hardhat chain with TestUSDC, beside a plain USDC transferFrom
// measured in the same run. Whole-transaction gas (receipt.gasUsed), in the typical case: the escrow, the funders
// and the treasury already hold USDC; allowances are finite (so transferFrom pays for the allowance update).
// Run: npm run bench:gas  (hardhat run scripts/gas-report.ts). Exits 1 if an operation is over its budget.
import { ethers, network } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import { USDC, DAY, deployEscrowFixture, makeTerms, signFunding, signRelease, taskId, latestTimestamp } from "../test/contracts/helpers";

interface Row {
  operation: string;
  gas: bigint;
  budget?: bigint;
}

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  return receipt!.gasUsed;
}

async function main(): Promise<void> {
  if (network.name !== "hardhat") throw new Error("run the gas report on the in-process hardhat network");
  const { usdc, escrow, guardian, funder, stranger, others } = await deployEscrowFixture();
  const [gaslessFunder, relayer, holder, spender, ...operators] = others;
  const escrowAddress = await escrow.getAddress();
  const freshOperator = () => operators.shift()!.address;

  // A finite allowance, as an agent approving per task or per budget would have.
  await usdc.connect(funder).approve(escrowAddress, USDC(1_000));
  await usdc.mint(gaslessFunder.address, USDC(1_000));
  await usdc.mint(holder.address, USDC(1_000));
  await usdc.mint(stranger.address, USDC(1));
  await usdc.connect(holder).approve(spender.address, USDC(1_000));

  const fund = async (label: string) => {
    const terms = await makeTerms(funder.address);
    const gas = await gasOf(escrow.connect(funder).fund(taskId(label), terms));
    return { id: taskId(label), terms, gas };
  };

  const rows: Row[] = [];
  rows.push({
    operation: "USDC transferFrom (baseline)",
    gas: await gasOf(usdc.connect(spender).transferFrom(holder.address, stranger.address, USDC(1))),
  });

  // Warm-up: a standing escrow keeps the contract's balance above zero all along, and the first fee ever paid sets
  // the treasury's balance; the rows below are then the typical case, not the first ever.
  await fund("standing");
  const first = await fund("warm-up");
  await escrow.connect(guardian).release(first.id, first.terms, freshOperator());

  const funded = await fund("fund");
  rows.push({ operation: "fund", gas: funded.gas, budget: 100_000n });

  const gaslessId = taskId("gasless");
  const gaslessTerms = await makeTerms(gaslessFunder.address);
  const auth = await signFunding(usdc, escrow, gaslessFunder, gaslessId, gaslessTerms);
  rows.push({
    operation: "fundWithAuthorization (gasless)",
    gas: await gasOf(
      escrow
        .connect(relayer)
        .fundWithAuthorization(gaslessId, gaslessTerms, auth.validAfter, auth.validBefore, auth.signature),
    ),
    budget: 130_000n,
  });

  rows.push({
    operation: "release (Guardian role, fee, payee at 0)",
    gas: await gasOf(escrow.connect(guardian).release(funded.id, funded.terms, freshOperator())),
    budget: 85_000n,
  });

  const payee = freshOperator();
  const deadline = (await latestTimestamp()) + 600n;
  const signature = await signRelease(guardian, escrow, {
    taskId: gaslessId,
    payee,
    amount: gaslessTerms.amount,
    deadline,
  });
  rows.push({
    operation: "releaseWithSignature (relayed, payee at 0)",
    gas: await gasOf(
      escrow.connect(relayer).releaseWithSignature(gaslessId, gaslessTerms, payee, deadline, signature),
    ),
  });

  const refunded = await fund("refund");
  rows.push({
    operation: "refund (Guardian)",
    gas: await gasOf(escrow.connect(guardian).refund(refunded.id, refunded.terms)),
    budget: 62_000n,
  });

  // Changing a task (server/escrow: AMEND): the funding wallet raises the amount and/or extends the deadline.
  const amended = await fund("amend");
  const raised = { ...amended.terms, amount: USDC(22), fee: USDC(2), deadline: amended.terms.deadline + BigInt(DAY) };
  rows.push({
    operation: "amend (raise + later deadline, by funder)",
    gas: await gasOf(escrow.connect(funder).amend(amended.id, amended.terms, raised)),
    budget: 75_000n,
  });
  const extended = { ...raised, deadline: raised.deadline + BigInt(DAY) };
  rows.push({
    operation: "amend (later deadline only, by funder)",
    gas: await gasOf(escrow.connect(funder).amend(amended.id, raised, extended)),
  });

  // A tip (server/escrow: TIP) for the released task above, from the funding wallet to a payee holding no USDC yet.
  rows.push({
    operation: "tip (released task, payee at 0)",
    gas: await gasOf(escrow.connect(funder).tip(funded.id, freshOperator(), USDC(2))),
    budget: 80_000n,
  });

  const reclaimed = await fund("reclaim");
  await ethers.provider.send("evm_increaseTime", [2 * DAY + 1]);
  rows.push({
    operation: "reclaim (after grace, by funder)",
    gas: await gasOf(escrow.connect(funder).reclaim(reclaimed.id, reclaimed.terms)),
  });

  // Batches: gas per task beside the single calls above (the same typical case: payees at 0, treasury warm).
  for (const size of [5, 20]) {
    const ids = Array.from({ length: size }, (_, i) => taskId(`batch-${size}-${i}`));
    const terms = await Promise.all(ids.map(() => makeTerms(funder.address)));
    const funding = await gasOf(escrow.connect(funder).fundBatch(ids, terms));
    rows.push({ operation: `fundBatch of ${size}, per task`, gas: funding / BigInt(size), budget: 100_000n });
    const releasing = await gasOf(escrow.connect(guardian).releaseBatch(ids, terms, ids.map(() => ethers.Wallet.createRandom().address)));
    rows.push({ operation: `releaseBatch of ${size}, per task`, gas: releasing / BigInt(size), budget: 85_000n });
  }

  printTable(rows);
}

function printTable(rows: Row[]): void {
  const baseline = rows[0].gas;
  const table = rows.map((row) => ({
    operation: row.operation,
    gas: row.gas.toString(),
    "× transferFrom": (Number(row.gas) / Number(baseline)).toFixed(2),
    budget: row.budget === undefined ? "-" : row.budget.toString(),
    status: row.budget === undefined ? "-" : row.gas <= row.budget ? "ok" : "OVER",
  }));
  const columns = Object.keys(table[0]) as (keyof (typeof table)[0])[];
  const widths = columns.map((c) => Math.max(c.length, ...table.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(" | ")} |`;
  console.log(line(columns));
  console.log(`|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const row of table) console.log(line(columns.map((c) => row[c])));
  if (table.some((r) => r.status === "OVER")) {
    console.error("\nAt least one operation is over its gas budget.");
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
