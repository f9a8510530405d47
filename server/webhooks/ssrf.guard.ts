import dns from "node:dns";
import net from "node:net";
import type { LookupFunction } from "node:net";
import { Mode } from "../common/mode";
import { ValidationError } from "../common/errors";

/**
 * Keeps webhook delivery from being turned against our own network (SSRF):
 * live endpoints must be https and every address their host resolves to
 * must be public. Test-mode endpoints may also be http and loopback, so a
 * developer can receive on 127.0.0.1. The address checked is the address
 * connected to (guardedLookup), so DNS cannot be re-pointed in between.
 */
export interface UrlPolicy {
  mode: Mode;
  allowLoopbackInTestMode: boolean;
}

const MAX_URL_LENGTH = 2048;

function blockList(family: "ipv4" | "ipv6", subnets: string[]): net.BlockList {
  const list = new net.BlockList();
  for (const subnet of subnets) {
    const [address, prefix] = subnet.split("/");
    list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

const LOOPBACK = { label: "a loopback address", v4: blockList("ipv4", ["127.0.0.0/8"]), v6: blockList("ipv6", ["::1/128"]) };

const FORBIDDEN: Array<{ label: string; v4: net.BlockList; v6: net.BlockList }> = [
  { label: "an unspecified address", v4: blockList("ipv4", ["0.0.0.0/8"]), v6: blockList("ipv6", ["::/128"]) },
  { label: "a private network address", v4: blockList("ipv4", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]), v6: blockList("ipv6", ["fc00::/7", "fec0::/10"]) },
  { label: "a carrier-grade NAT address", v4: blockList("ipv4", ["100.64.0.0/10"]), v6: blockList("ipv6", []) },
  { label: "a link-local address (this includes cloud metadata services)", v4: blockList("ipv4", ["169.254.0.0/16"]), v6: blockList("ipv6", ["fe80::/10"]) },
  { label: "a multicast address", v4: blockList("ipv4", ["224.0.0.0/4"]), v6: blockList("ipv6", ["ff00::/8"]) },
  {
    label: "a reserved or special-purpose address",
    v4: blockList("ipv4", ["192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4"]),
    v6: blockList("ipv6", ["100::/64", "2001::/23", "2001:db8::/32", "2002::/16", "64:ff9b:1::/48"]),
  },
];

/** IPv4 addresses carried inside IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d) are judged as the IPv4 address they carry. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const match = /^(?:::ffff:|64:ff9b::)(?:0:)?([0-9.]+|[0-9a-f]{1,4}:[0-9a-f]{1,4})$/.exec(lower);
  if (!match) return undefined;
  const tail = match[1];
  if (net.isIPv4(tail)) return tail;
  const [high, low] = tail.split(":").map((part) => Number.parseInt(part, 16));
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
}

/** 127.0.0.0/8 or ::1, also spelled as an IPv4-mapped IPv6 address. */
export function isLoopbackAddress(address: string): boolean {
  const v4 = net.isIPv4(address) ? address : embeddedIpv4(address);
  return v4 ? LOOPBACK.v4.check(v4, "ipv4") : net.isIPv6(address) && LOOPBACK.v6.check(address, "ipv6");
}

/** Why an address may not receive webhooks, or undefined if it may. */
export function forbiddenAddressReason(address: string, allowLoopback: boolean): string | undefined {
  const v4 = net.isIPv4(address) ? address : embeddedIpv4(address);
  const check = (entry: { v4: net.BlockList; v6: net.BlockList }) => (v4 ? entry.v4.check(v4, "ipv4") : entry.v6.check(address, "ipv6"));
  if (!v4 && !net.isIPv6(address)) return "not an IP address";
  if (isLoopbackAddress(address)) return allowLoopback ? undefined : LOOPBACK.label;
  return FORBIDDEN.find(check)?.label;
}

function loopbackAllowed(policy: UrlPolicy): boolean {
  return policy.mode === Mode.TEST && policy.allowLoopbackInTestMode;
}

function hostAddress(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return net.isIP(host) ? host : undefined;
}

/**
 * The checks that need no network: scheme, shape, and the host when it is
 * an IP literal or a localhost name. Run when an endpoint is saved and again
 * before every delivery.
 */
export function checkWebhookUrl(raw: string, policy: UrlPolicy, field = "url"): URL {
  if (typeof raw !== "string" || raw.trim() === "") throw new ValidationError(field, "is required");
  if (raw.length > MAX_URL_LENGTH) throw new ValidationError(field, `must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ValidationError(field, "must be an absolute URL, e.g. https://example.com/hooks/humanops");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.mode === Mode.TEST)) {
    throw new ValidationError(field, policy.mode === Mode.LIVE ? "must use https in live mode" : "must use http or https");
  }
  if (url.username || url.password) throw new ValidationError(field, "must not carry credentials; authenticate deliveries by their signature");
  const literal = hostAddress(url);
  if (literal) {
    const reason = forbiddenAddressReason(literal, loopbackAllowed(policy));
    if (reason) throw new ValidationError(field, `must not point to ${reason}`);
  } else if (/(^|\.)localhost\.?$/i.test(url.hostname) && !loopbackAllowed(policy)) {
    throw new ValidationError(field, `must not point to ${LOOPBACK.label}`);
  }
  return url;
}

export class BlockedAddressError extends Error {
  constructor(host: string, address: string, reason: string) {
    super(`${host} resolves to ${address}, ${reason}; delivery refused`);
    this.name = "BlockedAddressError";
  }
}

/**
 * A DNS lookup for the HTTP client that refuses a host if any of its
 * addresses is forbidden, and hands the client exactly the addresses it
 * checked.
 */
export function guardedLookup(policy: UrlPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { all: true, verbatim: true, family: options.family }, (err, addresses) => {
      if (err) return callback(err, "", 0);
      for (const { address } of addresses) {
        const reason = forbiddenAddressReason(address, loopbackAllowed(policy));
        if (reason) return callback(new BlockedAddressError(hostname, address, reason), "", 0);
      }
      if (options.all) return (callback as unknown as (err: null, addresses: dns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** Resolves a URL's host now and refuses it if any address is forbidden: early feedback when an endpoint is saved. */
export async function assertResolvesToAllowed(url: URL, policy: UrlPolicy, field = "url"): Promise<void> {
  if (hostAddress(url)) return;
  let addresses: dns.LookupAddress[];
  try {
    addresses = await dns.promises.lookup(url.hostname, { all: true, verbatim: true });
  } catch {
    throw new ValidationError(field, `host ${url.hostname} does not resolve`);
  }
  for (const { address } of addresses) {
    const reason = forbiddenAddressReason(address, loopbackAllowed(policy));
    if (reason) throw new ValidationError(field, `host ${url.hostname} resolves to ${reason}`);
  }
}
