import { useState } from "preact/hooks";
import { gql } from "../api";
import { CreateWebhookEndpoint, DeleteWebhookEndpoint, RedeliverWebhook, UpdateWebhookEndpoint, Webhooks } from "../graphql/operations.generated";
import { DataTable, dateTime, ErrorBox, Field, Section, Spinner, useLoad, useTitle } from "../ui";

/** Webhook endpoints with their delivery health, the delivery log with redeliver, and a form to add one. */
export function WebhooksPage() {
  const data = useLoad(() => gql(Webhooks), []);
  const [error, setError] = useState<unknown>(undefined);
  const [secret, setSecret] = useState<{ url: string; secret: string } | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  useTitle("Webhooks");

  const act = async (key: string, action: () => Promise<unknown>) => {
    setBusy(key);
    setError(undefined);
    try {
      await action();
      await data.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  };

  if (data.error) return <ErrorBox error={data.error} title="Webhooks could not be loaded" />;
  if (!data.data) return <Spinner />;
  const { webhookEndpoints: endpoints, webhookDeliveries: deliveries, webhookEventTypes: eventTypes } = data.data;
  const urlOf = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint.url]));

  return (
    <div class="grid">
      <Section title="Endpoints" id="endpoints">
        <ErrorBox error={error} />
        {secret ? (
          <div class="notice" role="status">
            Signing secret for {secret.url} (shown once, store it now): <code class="wrap">{secret.secret}</code>
          </div>
        ) : null}
        {endpoints.length === 0 ? <p class="muted">No endpoints yet.</p> : null}
        <ul class="plain">
          {endpoints.map((endpoint) => {
            const healthy = endpoint.status === "ACTIVE" && endpoint.consecutiveFailures === 0;
            return (
              <li key={endpoint.id} class="endpoint">
                <div>
                  <code class="wrap">{endpoint.url}</code> <span class={`badge ${healthy ? "ok" : "warn"}`}>{endpoint.status === "DISABLED" ? "Disabled" : endpoint.consecutiveFailures ? `${endpoint.consecutiveFailures} failures in a row` : "Healthy"}</span>
                </div>
                <div class="muted small">
                  {endpoint.description ? `${endpoint.description} · ` : ""}
                  {endpoint.eventTypes.join(", ")} · last success {dateTime(endpoint.lastSuccessAt)} · last failure {dateTime(endpoint.lastFailureAt)}
                  {endpoint.taskId ? ` · only task ${endpoint.taskId.slice(0, 8)}` : ""} · secret {endpoint.secretFingerprint}
                </div>
                {endpoint.disabledReason ? <div class="muted small">Disabled: {endpoint.disabledReason}</div> : null}
                <div class="actions">
                  <button
                    type="button"
                    class="secondary"
                    disabled={busy !== undefined}
                    onClick={() => act(`toggle-${endpoint.id}`, () => gql(UpdateWebhookEndpoint, { id: endpoint.id, input: { enabled: endpoint.status === "DISABLED" } }))}
                  >
                    {endpoint.status === "DISABLED" ? "Enable" : "Disable"}
                  </button>
                  <button
                    type="button"
                    class="danger"
                    disabled={busy !== undefined}
                    onClick={() => confirm(`Delete the endpoint ${endpoint.url} and its delivery log?`) && act(`delete-${endpoint.id}`, () => gql(DeleteWebhookEndpoint, { id: endpoint.id }))}
                  >
                    Delete
                  </button>
                </div>
              </li>
            );
          })}
        </ul>
        <form
          class="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            const form = new FormData(event.currentTarget);
            const url = String(form.get("url") ?? "").trim();
            const chosen = form.getAll("eventTypes").map(String);
            const target = event.currentTarget;
            void act("create", async () => {
              const { createWebhookEndpoint } = await gql(CreateWebhookEndpoint, {
                input: { url, description: String(form.get("description") ?? "").trim() || null, eventTypes: chosen.length ? chosen : null },
              });
              setSecret({ url: createWebhookEndpoint.endpoint.url, secret: createWebhookEndpoint.secret });
              target.reset();
            });
          }}
        >
          <h3>Add an endpoint</h3>
          <Field label="URL" hint="https; deliveries are signed with the secret shown once after adding">
            <input name="url" type="url" required placeholder="https://example.com/humanops" />
          </Field>
          <Field label="Description (optional)">
            <input name="description" maxLength={200} />
          </Field>
          <fieldset class="inline">
            <legend>Events (none ticked: every task transition)</legend>
            {eventTypes.map((type) => (
              <label key={type}>
                <input type="checkbox" name="eventTypes" value={type} /> {type}
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={busy !== undefined}>
            Add endpoint
          </button>
        </form>
      </Section>
      <Section title="Recent deliveries" id="deliveries" actions={<button type="button" class="secondary" onClick={() => void data.reload()}>Refresh</button>}>
        {deliveries.nodes.length === 0 ? <p class="muted">No deliveries yet.</p> : null}
        <div class="table-wrap">
          <DataTable caption="Webhook deliveries, newest first" columns={["Event", "Endpoint", "Status", "Attempts", ""]}>
            {deliveries.nodes.map((delivery) => (
              <tr key={delivery.id}>
                <td>
                  {delivery.eventType}
                  <div class="muted small">{dateTime(delivery.createdAt)}</div>
                </td>
                <td class="wrap">{urlOf.get(delivery.endpointId) ?? delivery.endpointId}</td>
                <td>
                  <span class={`badge ${delivery.status === "DELIVERED" ? "ok" : delivery.status === "FAILED" ? "bad" : "warn"}`}>{delivery.status}</span>
                  {delivery.lastStatusCode ? <div class="muted small">HTTP {delivery.lastStatusCode}</div> : null}
                  {delivery.lastError ? <div class="muted small">{delivery.lastError}</div> : null}
                  {delivery.nextAttemptDueAt ? <div class="muted small">next try {dateTime(delivery.nextAttemptDueAt)}</div> : null}
                </td>
                <td>{delivery.attempts}</td>
                <td>
                  <button type="button" class="secondary" disabled={busy !== undefined} onClick={() => act(`redeliver-${delivery.id}`, () => gql(RedeliverWebhook, { id: delivery.id }))}>
                    Redeliver
                  </button>
                </td>
              </tr>
            ))}
          </DataTable>
        </div>
      </Section>
    </div>
  );
}
