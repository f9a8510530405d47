import { type ComponentChildren, Fragment } from "preact";
import { useState } from "preact/hooks";
import { gql, signIn, type Session } from "./api";
import { RegisterAgent, RegisterOperator } from "./graphql/operations.generated";
import { ErrorBox, Field, useAction, useTitle } from "./ui";

type Tab = "key" | "agent" | "operator";

/**
 * Sign in with an API key, or create an account. The key is sent once to
 * /auth/session, which answers with an httpOnly cookie; the page keeps no copy.
 * A new account's keys are shown once so the person can store them.
 */
export function SignIn(props: { onSignedIn: (session: Session) => void }) {
  const [tab, setTab] = useState<Tab>("key");
  const [created, setCreated] = useState<{ keys: Array<[string, string]>; signInWith: string } | undefined>(undefined);
  const { busy, error, setError, run } = useAction();
  useTitle("Sign in");

  if (created) {
    return (
      <section class="card narrow" aria-labelledby="keys-title">
        <h1 id="keys-title">Your account is ready</h1>
        <p>Store these keys now: they are shown only once. You can sign in with them from any device.</p>
        <dl class="facts">
          {created.keys.map(([label, key]) => (
            <Fragment key={label}>
              <dt>{label}</dt>
              <dd>
                <code class="key" data-key={label}>
                  {key}
                </code>
              </dd>
            </Fragment>
          ))}
        </dl>
        <ErrorBox error={error} />
        <button type="button" disabled={busy} onClick={() => run(async () => props.onSignedIn(await signIn(created.signInWith)))}>
          Continue
        </button>
      </section>
    );
  }

  return (
    <section class="card narrow" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in to HumanOps</h1>
      <div class="tabs" role="tablist" aria-label="How to sign in">
        {(
          [
            ["key", "I have a key"],
            ["agent", "New agent"],
            ["operator", "New operator"],
          ] as Array<[Tab, string]>
        ).map(([id, label]) => (
          <button
            key={id}
            type="button"
            role="tab"
            id={`tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`panel-${id}`}
            class={tab === id ? "tab active" : "tab"}
            onClick={() => {
              setTab(id);
              setError(undefined);
            }}
          >
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === "key" ? (
          <form
            onSubmit={(event) => {
              event.preventDefault();
              const key = String(new FormData(event.currentTarget).get("apiKey") ?? "").trim();
              void run(async () => props.onSignedIn(await signIn(key)));
            }}
          >
            <Field label="API key" hint="An agent or operator key (ho_test_… or ho_live_…), or a platform admin key (ho_admin_…)">
              <input name="apiKey" type="password" autocomplete="off" required spellcheck={false} />
            </Field>
            <ErrorBox error={error} />
            <button type="submit" disabled={busy}>
              Sign in
            </button>
          </form>
        ) : tab === "agent" ? (
          <RegisterForm
            intro="Agents post tasks and pay for them. A new account starts in test mode with test USDC."
            nameAutocomplete="organization"
            submit="Create agent account"
            busy={busy}
            error={error}
            onSubmit={(form) =>
              run(async () => {
                const { registerAgent } = await gql(RegisterAgent, { input: { name: text(form, "name"), email: text(form, "email") } });
                setCreated({ keys: [["Test API key", registerAgent.apiKey]], signInWith: registerAgent.apiKey });
              })
            }
          />
        ) : (
          <RegisterForm
            intro="Operators take tasks near them, send photo proof and are paid in USDC."
            nameAutocomplete="name"
            submit="Create operator account"
            busy={busy}
            error={error}
            onSubmit={(form) =>
              run(async () => {
                const input = { name: text(form, "name"), email: text(form, "email"), payoutAddress: text(form, "payoutAddress") };
                const { registerOperator } = await gql(RegisterOperator, { input });
                setCreated({
                  keys: [
                    ["Test API key", registerOperator.testApiKey],
                    ["Live API key", registerOperator.liveApiKey],
                  ],
                  signInWith: form.get("mode") === "live" ? registerOperator.liveApiKey : registerOperator.testApiKey,
                });
              })
            }
          >
            <Field label="Payout address" hint="The Base (EVM) address USDC payouts go to: 0x followed by 40 hex digits">
              <input name="payoutAddress" required pattern="0x[0-9a-fA-F]{40}" spellcheck={false} autocomplete="off" />
            </Field>
            <fieldset class="inline">
              <legend>Start with</legend>
              <label>
                <input type="radio" name="mode" value="test" defaultChecked /> Test tasks
              </label>
              <label>
                <input type="radio" name="mode" value="live" /> Live tasks (identity check needed)
              </label>
            </fieldset>
          </RegisterForm>
        )}
      </div>
    </section>
  );
}

const text = (form: FormData, name: string) => String(form.get(name) ?? "").trim();

/** A new account's form: name and e-mail, the fields its role adds (children), and the submit button. */
function RegisterForm(props: { intro: string; nameAutocomplete: string; submit: string; busy: boolean; error: unknown; onSubmit: (form: FormData) => void; children?: ComponentChildren }) {
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        props.onSubmit(new FormData(event.currentTarget));
      }}
    >
      <p class="muted">{props.intro}</p>
      <Field label="Name">
        <input name="name" required maxLength={200} autocomplete={props.nameAutocomplete} />
      </Field>
      <Field label="E-mail">
        <input name="email" type="email" required autocomplete="email" />
      </Field>
      {props.children}
      <ErrorBox error={props.error} />
      <button type="submit" disabled={props.busy}>
        {props.submit}
      </button>
    </form>
  );
}
