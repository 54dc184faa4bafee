// Grafana faces the internet through Traefik: either it signs people in through the IdP
// (observability.grafanaSso), or Traefik lets only listed networks reach it
// (observability.grafanaAllowFrom). Checked across sections, so it reads the partly parsed value.
import { at } from "./cross-checks";

type Value = Record<string, unknown> | undefined;

/** [first address, last address] of an IPv4 CIDR, as numbers; undefined if it is not one. */
function range(cidr: string): [number, number] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const ip = m.slice(1, 5).reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(m[5]));
  const start = ip - (ip % size);
  return [start, start + size - 1];
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = range(a);
  const y = range(b);
  return x !== undefined && y !== undefined && x[0] <= y[1] && y[0] <= x[1];
}

/** What is wrong with how Grafana is reached, or nothing. */
export function grafanaAccessProblem(env: Value): string | undefined {
  const sso = at(env, "observability", "grafanaSso");
  const allowFrom = at(env, "observability", "grafanaAllowFrom");
  if (allowFrom === undefined) {
    return sso === undefined
      ? "required without observability.grafanaSso: Grafana would face the internet with only its admin password; list your LAN, e.g. ['192.168.1.0/24']"
      : undefined;
  }
  if (!Array.isArray(allowFrom)) return undefined; // its own problem is reported
  if (at(env, "dns", "proxied") === true) {
    return "cannot work behind Cloudflare's proxy (every request arrives from Cloudflare): set observability.grafanaSso, or dns.proxied: false";
  }
  const network = (at(env, "docker", "networkCidr") as string | undefined) ?? "172.30.0.0/24";
  const overlapping = allowFrom.find((c) => typeof c === "string" && cidrsOverlap(c, network));
  return overlapping ? `${overlapping} overlaps docker.networkCidr (${network}), whose gateway build jobs reach Traefik from` : undefined;
}
