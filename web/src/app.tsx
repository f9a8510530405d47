import { useEffect, useState } from "preact/hooks";
import { ApiError, closeLive, currentSession, signOut, useSessionToken, whenSessionEnds, type Session } from "./api";
import { AdminApp } from "./admin/admin-app";
import { AgentApp } from "./agent/agent-app";
import { OperatorApp } from "./operator/operator-app";
import { Link, navigate } from "./router";
import { SignIn } from "./signin";
import { ErrorBox, Spinner } from "./ui";

/** The whole app: the sign-in page for visitors, the agent dashboard or the operator app for a session. */
export function App() {
  const [session, setSession] = useState<Session | undefined | null>(null);
  const [error, setError] = useState<unknown>(undefined);

  useEffect(() => {
    whenSessionEnds(() => {
      useSessionToken(undefined);
      closeLive();
      setSession(undefined);
      setError(new ApiError("Your session has ended: sign in again", "UNAUTHENTICATED"));
    });
    currentSession()
      .then((found) => {
        useSessionToken(found);
        setSession(found);
      })
      .catch((err) => {
        setError(err);
        setSession(undefined);
      });
  }, []);

  const signedIn = (next: Session) => {
    useSessionToken(next);
    setError(undefined);
    setSession(next);
    if (location.pathname === "/signin") navigate("/", { replace: true });
  };

  const leave = async () => {
    try {
      await signOut();
    } catch (err) {
      setError(err);
      return;
    }
    useSessionToken(undefined);
    setSession(undefined);
    navigate("/", { replace: true });
  };

  if (session === null) return <Spinner label="Opening HumanOps…" />;

  return (
    <div class="shell">
      <header class="topbar">
        <Link href="/" class="brand">
          HumanOps
        </Link>
        {session ? (
          <div class="who">
            <span class="muted">
              {session.role === "agent" ? "Agent" : session.role === "admin" ? "Admin" : "Operator"}: <strong>{session.name}</strong>
            </span>
            {session.mode === "live" && session.role !== "admin" ? <span class="badge mode-live">Live</span> : null}
            <button type="button" class="secondary" onClick={leave}>
              Sign out
            </button>
          </div>
        ) : null}
      </header>
      <main id="main">
        <ErrorBox error={error} />
        {!session ? (
          <SignIn onSignedIn={signedIn} />
        ) : session.role === "agent" ? (
          <AgentApp session={session} />
        ) : session.role === "admin" ? (
          <AdminApp session={session} />
        ) : (
          <OperatorApp session={session} />
        )}
      </main>
    </div>
  );
}
