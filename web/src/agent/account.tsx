import { useState } from "preact/hooks";
import { gql } from "../api";
import { AgentLedger, type AgentLedgerResult } from "../graphql/operations.generated";
import { Link } from "../router";
import { DataTable, dateTime, ErrorBox, LoadMore, money, nextCursor, Section, shortHash, Spinner, useLoad, useTitle } from "../ui";

type Posting = AgentLedgerResult["viewerAgent"]["ledgerTransactions"]["nodes"][number];

/** Balance, the ledger (paged), credited deposits and where to send USDC. */
export function AccountPage() {
  const first = useLoad(() => gql(AgentLedger, { first: 25 }), []);
  const [more, setMore] = useState<Posting[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  useTitle("Balance");
  if (first.error) return <ErrorBox error={first.error} title="The balance could not be loaded" />;
  if (!first.data) return <Spinner />;
  const { viewerAgent: agent, depositAddress: deposit } = first.data;
  const page = agent.ledgerTransactions;
  const following = cursor === undefined ? nextCursor(page) : cursor;
  const postings = [...page.nodes, ...more];
  return (
    <div class="grid">
      <Section title="Balance" id="balance">
        <p class="big" data-testid="balance-amount">
          {money(agent.balance)}
        </p>
        <p class="muted">Spendable in {agent.mode.toLowerCase()} mode; money locked in escrow is not included.</p>
      </Section>
      <Section title="Deposit address" id="deposit">
        <dl class="facts">
          <dt>Send USDC to</dt>
          <dd>
            <code class="wrap">{deposit.address}</code>
          </dd>
          <dt>Network</dt>
          <dd>
            {deposit.network} (chain {deposit.chainId}), credited after {deposit.confirmations} confirmations
          </dd>
          <dt>USDC contract</dt>
          <dd>
            <code class="wrap">{deposit.usdc}</code>
          </dd>
          <dt>From your wallets</dt>
          <dd>{deposit.linkedWallets.length ? deposit.linkedWallets.map((wallet) => <code class="wrap" key={wallet}>{wallet}</code>) : <span class="muted">No linked wallet: deposits from unlinked wallets are not credited.</span>}</dd>
        </dl>
        {agent.deposits.length ? (
          <>
            <h3>Credited deposits</h3>
            <ul class="plain">
              {agent.deposits.map((d) => (
                <li key={d.txHash}>
                  {money(d.amount)} · {dateTime(d.creditedAt)} · <code title={d.txHash}>{shortHash(d.txHash)}</code>
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </Section>
      <Section title="Ledger" id="ledger">
        <div class="table-wrap">
          <DataTable caption="Postings to and from the balance, newest first" columns={["When", "Kind", "Amount", "Task"]}>
            {postings.map((posting) => (
              <tr key={posting.id}>
                <td>{dateTime(posting.createdAt)}</td>
                <td>{posting.kind}</td>
                <td class={posting.direction === "CREDIT" ? "credit" : "debit"}>
                  {posting.direction === "CREDIT" ? "+" : "−"}
                  {money(posting.amount)}
                </td>
                <td>{posting.taskId ? <Link href={`/tasks/${posting.taskId}`}>{posting.taskId.slice(0, 8)}</Link> : "—"}</td>
              </tr>
            ))}
          </DataTable>
        </div>
        <LoadMore
          cursor={following}
          label="Load older postings"
          load={async (after) => (await gql(AgentLedger, { first: 25, after })).viewerAgent.ledgerTransactions}
          onPage={(nodes, next) => {
            setMore((have) => [...have, ...nodes]);
            setCursor(next);
          }}
        />
      </Section>
    </div>
  );
}
