import type { Session } from "../api";
import { gql } from "../api";
import { AgentOverview } from "../graphql/operations.generated";
import { Link, match, usePath } from "../router";
import { NotFound } from "../live-task";
import { money, useLoad } from "../ui";
import { AccountPage } from "./account";
import { Board } from "./board";
import { NewTask } from "./new-task";
import { AgentTaskPage } from "./task-page";
import { WebhooksPage } from "./webhooks";

/** The agent's dashboard: the live board, a task, posting, money and webhooks. */
export function AgentApp(_props: { session: Session }) {
  const path = usePath();
  const overview = useLoad(() => gql(AgentOverview), []);
  const agent = overview.data?.viewerAgent;
  const task = match("/tasks/:id", path);
  const nav: Array<[string, string]> = [
    ["/", "Tasks"],
    ["/tasks/new", "Post a task"],
    ["/balance", "Balance"],
    ["/settings/webhooks", "Webhooks"],
  ];
  return (
    <div class="agent">
      <nav class="subnav" aria-label="Dashboard">
        {nav.map(([href, label]) => (
          <Link key={href} href={href} class={path === href ? "active" : undefined} aria-current={path === href ? "page" : undefined}>
            {label}
          </Link>
        ))}
        {agent ? (
          <span class="balance" data-testid="balance">
            {agent.mode === "TEST" ? <span class="badge mode-test">Test mode</span> : null} Balance <strong>{money(agent.balance)}</strong>
          </span>
        ) : null}
      </nav>
      {path === "/" || path === "/tasks" ? (
        <Board />
      ) : path === "/tasks/new" ? (
        <NewTask mode={agent?.mode} onPosted={() => void overview.reload()} />
      ) : task ? (
        <AgentTaskPage id={task.id} onMoneyChanged={() => void overview.reload()} />
      ) : path === "/balance" ? (
        <AccountPage />
      ) : path === "/settings/webhooks" ? (
        <WebhooksPage />
      ) : (
        <NotFound />
      )}
    </div>
  );
}
