import type { IpAddress, SocketAddress, Transport, UnixAddress } from "./address.ts";
import { AddressError } from "./errors.ts";
import { hostKind } from "./host.ts";
import { parsePort } from "./port.ts";
import { checkUnixPath } from "./unix_path_limit.ts";

const TRANSPORTS: readonly Transport[] = ["tcp", "tls", "udp", "unix", "unixgram"];

/** Options for {@linkcode parseAddress}. */
export interface ParseAddressOptions {
  /** The transport of an address written without a scheme (`127.0.0.1:50000`, `/tmp/s`). */
  transport?: Transport;
  /** The port of an IP address written without one; without this option a port is required. */
  port?: number;
}

/**
 * Parses a socket address in URI form: `tcp://127.0.0.1:50000`, `udp://[::1]:53`,
 * `tcp://:50000` (all interfaces), `tcp://[fe80::1%25eth0]:80`,
 * `unix:///tmp/unixsocket_tcp`, `unix:relative/path`, `unix:@name` (Linux abstract),
 * `unixgram:///tmp/unixsocket_udp`, `tls://localhost:4433` (TLS over TCP). Ports may be service names (`tcp://localhost:http`).
 * With `options.transport`, the scheme may be left out (`localhost:50000`, `/tmp/s`, `@name`).
 *
 * @param text The address as written.
 * @param options Defaults for a missing scheme or port.
 * @returns The typed address.
 * @throws {AddressError} for a malformed address; {@linkcode parsePort}'s `RangeError` for a bad port.
 * @example
 * ```ts
 * import { parseAddress } from "@socklab/core";
 * parseAddress("tcp://127.0.0.1:50000"); // { transport: "tcp", host: "127.0.0.1", port: 50000 }
 * parseAddress("unix:@name"); // { transport: "unix", path: "name", abstract: true }
 * ```
 */
export function parseAddress(text: string, options: ParseAddressOptions = {}): SocketAddress {
  const match = /^([a-z][a-z0-9+.-]*):(.*)$/is.exec(text);
  let transport: Transport;
  let rest: string;
  let uri = true;
  if (match !== null && TRANSPORTS.includes(match[1]!.toLowerCase() as Transport)) {
    transport = match[1]!.toLowerCase() as Transport;
    rest = match[2]!;
  } else if (
    match !== null &&
    /^[a-z][a-z0-9+.-]*$/i.test(match[1]!) &&
    match[2]!.startsWith("//")
  ) {
    throw new AddressError(
      `Cannot parse address "${text}": unknown scheme "${match[1]}" (use tcp, tls, udp, unix or unixgram)`,
    );
  } else if (options.transport !== undefined) {
    transport = options.transport;
    rest = transport === "unix" || transport === "unixgram" ? text : `//${text}`;
    uri = false;
  } else {
    throw new AddressError(
      `Cannot parse address "${text}": expected tcp://HOST:PORT, udp://HOST:PORT, unix:///PATH or unixgram:///PATH`,
    );
  }
  return transport === "unix" || transport === "unixgram"
    ? parseUnix(text, transport, rest, uri)
    : parseIp(text, transport, rest, options);
}

function parseIp(
  text: string,
  transport: "tcp" | "tls" | "udp",
  rest: string,
  options: ParseAddressOptions,
): IpAddress {
  if (!rest.startsWith("//")) {
    throw new AddressError(`Cannot parse address "${text}": expected ${transport}://HOST:PORT`);
  }
  let authority = rest.slice(2);
  if (authority.endsWith("/")) authority = authority.slice(0, -1);
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) throw new AddressError(`Cannot parse address "${text}": "[" without "]"`);
    host = authority.slice(1, close).replace(/%25/, "%");
    const after = authority.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) {
      throw new AddressError(`Cannot parse address "${text}": expected ":PORT" after "]"`);
    }
    portText = after === "" ? undefined : after.slice(1);
    if (hostKind(host) !== "ipv6") {
      throw new AddressError(`Cannot parse address "${text}": only IPv6 addresses go in brackets`);
    }
  } else {
    const colon = authority.lastIndexOf(":");
    if (colon >= 0 && authority.indexOf(":") !== colon) {
      throw new AddressError(
        `Cannot parse address "${text}": put an IPv6 address in brackets, as in ${transport}://[::1]:50000`,
      );
    }
    host = colon < 0 ? authority : authority.slice(0, colon);
    portText = colon < 0 ? undefined : authority.slice(colon + 1);
    if (host.includes("/") || host.includes("@") || host.includes("?")) {
      throw new AddressError(
        `Cannot parse address "${text}": a socket address has no path, user or query`,
      );
    }
    hostKind(host);
  }
  let port: number;
  if (portText === undefined || portText === "") {
    if (options.port === undefined) {
      throw new AddressError(
        `Cannot parse address "${text}": the port is missing, as in ${transport}://localhost:50000`,
      );
    }
    port = options.port;
  } else {
    port = parsePort(portText, transport === "tls" ? "tcp" : transport);
  }
  return { transport, host, port };
}

function parseUnix(
  text: string,
  transport: "unix" | "unixgram",
  rest: string,
  uri: boolean,
): UnixAddress {
  let body = rest;
  if (!uri) {
    // A bare path (`--path` in the apps) is taken as it is: no percent-decoding.
    const abstract = body.startsWith("@");
    const path = abstract ? body.slice(1) : body;
    if (path === "")
      throw new AddressError(
        `Cannot use "${text}": the ${abstract ? "abstract name" : "path"} is empty`,
      );
    checkUnixPath(path, abstract);
    return { transport, path, abstract };
  }
  if (body.startsWith("//")) {
    body = body.slice(2);
    if (!body.startsWith("/") && !body.startsWith("@")) {
      throw new AddressError(
        `Cannot parse address "${text}": write ${transport}:///absolute/path, ${transport}:relative/path or ${transport}:@name`,
      );
    }
  }
  const abstract = body.startsWith("@");
  let path: string;
  try {
    path = decodeURIComponent(abstract ? body.slice(1) : body);
  } catch {
    throw new AddressError(`Cannot parse address "${text}": bad percent escape in the path`);
  }
  if (path === "") {
    throw new AddressError(
      `Cannot parse address "${text}": the ${abstract ? "abstract name" : "path"} is empty`,
    );
  }
  checkUnixPath(path, abstract);
  return { transport, path, abstract };
}
