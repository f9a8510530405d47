import { expect } from "chai";
import { graphqlEndpoint } from "../../server/mcp/api-url";
import { loadStdioConfig } from "../../server/mcp/stdio.config";

describe("HUMANOPS_API_URL", () => {
  it("is understood as the brief writes it, with or without a path, the REST base or the GraphQL endpoint", () => {
    const cases: Record<string, string> = {
      "https://api.humanops.io": "https://api.humanops.io/graphql",
      "https://api.humanops.io/": "https://api.humanops.io/graphql",
      "https://api.humanops.io/api/v1": "https://api.humanops.io/graphql",
      "https://api.humanops.io/api/v1/": "https://api.humanops.io/graphql",
      "https://api.humanops.io/graphql": "https://api.humanops.io/graphql",
      "https://example.com/humanops": "https://example.com/humanops/graphql",
      "https://example.com/humanops/api/v1": "https://example.com/humanops/graphql",
      " https://api.humanops.io:8443 ": "https://api.humanops.io:8443/graphql",
      "http://localhost:4000": "http://localhost:4000/graphql",
      "http://127.0.0.1:4000": "http://127.0.0.1:4000/graphql",
      "http://127.1.2.3": "http://127.1.2.3/graphql",
      "http://[::1]:4000/api/v1": "http://[::1]:4000/graphql",
    };
    for (const [given, endpoint] of Object.entries(cases)) expect(graphqlEndpoint(given).href, given).to.equal(endpoint);
  });

  it("must be https except on loopback, so the key never crosses a network in clear", () => {
    for (const url of ["http://api.humanops.io", "http://10.0.0.5:4000", "http://localhost.example.com", "http://0.0.0.0:4000", "ws://localhost:4000"]) {
      expect(() => graphqlEndpoint(url), url).to.throw("HUMANOPS_API_URL: must be https:// (plain http:// is allowed only for localhost, 127.0.0.1 and ::1)");
    }
  });

  it("refuses what is not a plain base URL, naming the variable", () => {
    expect(() => graphqlEndpoint("api.humanops.io")).to.throw("HUMANOPS_API_URL: must be a URL such as https://api.humanops.io");
    expect(() => graphqlEndpoint("https://me:secret@api.humanops.io")).to.throw("HUMANOPS_API_URL: must not contain credentials");
    expect(() => graphqlEndpoint("https://api.humanops.io/?key=1")).to.throw("HUMANOPS_API_URL: must not have a query or fragment");
  });
});

describe("stdio MCP server configuration", () => {
  it("defaults to the public API and runs without a key (register_agent only)", () => {
    const config = loadStdioConfig({ HUMANOPS_API_KEY: "   " });
    expect(config.endpoint.href).to.equal("https://api.humanops.io/graphql");
    expect(config.apiKey).to.equal(undefined);
    expect(config.logLevel).to.equal("info");
  });

  it("reports every bad variable by name", () => {
    expect(() => loadStdioConfig({ HUMANOPS_LOG_LEVEL: "loud" })).to.throw(/HUMANOPS_LOG_LEVEL/);
    expect(() => loadStdioConfig({ HUMANOPS_API_URL: "http://api.humanops.io" })).to.throw(/HUMANOPS_API_URL: must be https/);
  });
});
