import { readFileSync } from "node:fs";
import { invalidArgument } from "./errors.ts";

/** Well-known services, used when `/etc/services` cannot be read. */
const FALLBACK_SERVICES: Readonly<Record<string, number>> = {
  echo: 7,
  discard: 9,
  daytime: 13,
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  dns: 53,
  http: 80,
  www: 80,
  pop3: 110,
  ntp: 123,
  imap: 143,
  snmp: 161,
  ldap: 389,
  https: 443,
  submission: 587,
  imaps: 993,
  pop3s: 995,
  mysql: 3306,
  postgresql: 5432,
  redis: 6379,
  "http-alt": 8080,
};

type Protocol = "tcp" | "udp";
let servicesCache: Map<string, number> | undefined;

/**
 * Reads `/etc/services` (name, aliases → port per protocol), or the built-in table.
 *
 * @param text The file's text; read from the system when omitted.
 * @returns A map from `"name/protocol"` to port.
 */
function loadServices(text?: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const [name, port] of Object.entries(FALLBACK_SERVICES)) {
    map.set(`${name}/tcp`, port);
    map.set(`${name}/udp`, port);
  }
  let source = text;
  if (source === undefined) {
    try {
      source = readFileSync("/etc/services", "utf8");
    } catch {
      source = "";
    }
  }
  for (const raw of source.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    const [name, portProto, ...aliases] = line.split(/\s+/);
    const match = /^(\d+)\/(tcp|udp)$/.exec(portProto ?? "");
    if (name === undefined || match === null) continue;
    for (const n of [name, ...aliases]) map.set(`${n.toLowerCase()}/${match[2]}`, Number(match[1]));
  }
  return map;
}

/**
 * Looks up the port of a service name (`http` → 80) in `/etc/services`, with a
 * built-in table of common services as fallback.
 *
 * @param name Service name, case-insensitive.
 * @param protocol `"tcp"` or `"udp"`.
 * @returns The port, or `undefined` when the service is unknown.
 * @example
 * ```ts
 * import { servicePort } from "@socklab/core";
 * servicePort("http"); // 80
 * ```
 */
export function servicePort(name: string, protocol: Protocol = "tcp"): number | undefined {
  servicesCache ??= loadServices();
  return servicesCache.get(`${name.toLowerCase()}/${protocol}`);
}

/**
 * Reads a port: a decimal number from 0 to 65535 (0 lets the system pick) or a
 * service name such as `http`.
 *
 * @param value The port as written, or a number.
 * @param protocol The protocol service names are looked up for.
 * @returns The port number.
 * @throws {RangeError} `ERR_SOCKLAB_INVALID_PORT` for numbers out of range and unknown names.
 * @example
 * ```ts
 * import { parsePort } from "@socklab/core";
 * parsePort("50000"); // 50000
 * parsePort("http"); // 80
 * ```
 */
export function parsePort(value: string | number, protocol: Protocol = "tcp"): number {
  const text = String(value).trim();
  if (/^\d+$/.test(text)) {
    const port = Number(text);
    if (port <= 65535) return port;
  } else if (/^[a-z][a-z0-9_+-]*$/i.test(text)) {
    const port = servicePort(text, protocol);
    if (port !== undefined) return port;
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_PORT",
      `Cannot use port "${text}": no such ${protocol} service in /etc/services`,
    );
  }
  throw invalidArgument(
    "range",
    "ERR_SOCKLAB_INVALID_PORT",
    `Cannot use port "${text}": ports are 0 to 65535 (0 lets the system pick)`,
  );
}

/**
 * The lowest port an unprivileged process may bind on this system
 * (`/proc/sys/net/ipv4/ip_unprivileged_port_start`, 1024 by default).
 *
 * @returns The first unprivileged port.
 * @example
 * ```ts
 * import { unprivilegedPortStart } from "@socklab/core";
 * unprivilegedPortStart(); // 1024 on most systems
 * ```
 */
export function unprivilegedPortStart(): number {
  try {
    const value = Number(
      readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8").trim(),
    );
    if (Number.isInteger(value) && value >= 0) return value;
  } catch {
    // not Linux, or /proc is not mounted: the classic rule
  }
  return 1024;
}

/**
 * Explains when a port needs privileges to bind (tutorial 3.1: ports below 1024
 * are reserved for the superuser).
 *
 * @param port The port.
 * @returns One sentence when binding `port` needs privileges, else `undefined`.
 * @example
 * ```ts
 * import { privilegedPortNote } from "@socklab/core";
 * privilegedPortNote(80); // "Port 80 is below 1024: binding it needs root or the CAP_NET_BIND_SERVICE capability"
 * ```
 */
export function privilegedPortNote(port: number): string | undefined {
  const start = unprivilegedPortStart();
  if (port === 0 || port >= start) return undefined;
  return `Port ${port} is below ${start}: binding it needs root or the CAP_NET_BIND_SERVICE capability`;
}

/** @internal For tests: parse a services file text. */
export const _loadServices = loadServices;
