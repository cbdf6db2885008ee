import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { SocketAddress } from "./address.ts";
import { formatAddress, formatHostPort } from "./format_address.ts";
import { parseAddress } from "./parse_address.ts";

describe("parseAddress()", () => {
  test.each<[string, SocketAddress]>([
    ["tcp://127.0.0.1:50000", { transport: "tcp", host: "127.0.0.1", port: 50000 }],
    ["udp://[::1]:53", { transport: "udp", host: "::1", port: 53 }],
    ["tcp://:50000", { transport: "tcp", host: "", port: 50000 }],
    ["tcp://0.0.0.0:0", { transport: "tcp", host: "0.0.0.0", port: 0 }],
    ["tcp://[::]:8080", { transport: "tcp", host: "::", port: 8080 }],
    ["tcp://localhost:http", { transport: "tcp", host: "localhost", port: 80 }],
    ["TCP://Example.org:443/", { transport: "tcp", host: "Example.org", port: 443 }],
    ["tcp://[fe80::1%25eth0]:80", { transport: "tcp", host: "fe80::1%eth0", port: 80 }],
    ["tls://localhost:4433", { transport: "tls", host: "localhost", port: 4433 }],
    ["TLS://[::1]:https", { transport: "tls", host: "::1", port: 443 }],
    [
      "unix:///tmp/unixsocket_tcp",
      { transport: "unix", path: "/tmp/unixsocket_tcp", abstract: false },
    ],
    ["unix:/tmp/s", { transport: "unix", path: "/tmp/s", abstract: false }],
    ["unix:run/s.sock", { transport: "unix", path: "run/s.sock", abstract: false }],
    [
      "unixgram:///tmp/unixsocket_udp",
      { transport: "unixgram", path: "/tmp/unixsocket_udp", abstract: false },
    ],
    ["unix:@name", { transport: "unix", path: "name", abstract: true }],
    ["unix:///tmp/my%20sock", { transport: "unix", path: "/tmp/my sock", abstract: false }],
  ])("reads %s", (text, address) => expect(parseAddress(text)).toEqual(address));

  test.each([
    ["localhost:50000", "tcp", { transport: "tcp", host: "localhost", port: 50000 }],
    ["[::1]:53", "udp", { transport: "udp", host: "::1", port: 53 }],
    ["/tmp/s", "unix", { transport: "unix", path: "/tmp/s", abstract: false }],
    ["@name", "unixgram", { transport: "unixgram", path: "name", abstract: true }],
  ] as const)("reads %s without a scheme as %s", (text, transport, address) => {
    expect(parseAddress(text, { transport })).toEqual(address);
  });

  test("takes a bare UNIX path as it is, without percent-decoding", () => {
    expect(parseAddress("/tmp/a%20b", { transport: "unix" })).toEqual({
      transport: "unix",
      path: "/tmp/a%20b",
      abstract: false,
    });
  });

  test("uses a default port when asked", () => {
    expect(parseAddress("tcp://localhost", { port: 50000 })).toEqual({
      transport: "tcp",
      host: "localhost",
      port: 50000,
    });
  });

  test.each([
    [
      "tcp://localhost:70000",
      'Cannot use port "70000": ports are 0 to 65535 (0 lets the system pick)',
    ],
    [
      "tcp://localhost",
      'Cannot parse address "tcp://localhost": the port is missing, as in tcp://localhost:50000',
    ],
    [
      "tcp://::1:80",
      'Cannot parse address "tcp://::1:80": put an IPv6 address in brackets, as in tcp://[::1]:50000',
    ],
    [
      "http://localhost:80",
      'Cannot parse address "http://localhost:80": unknown scheme "http" (use tcp, tls, udp, unix or unixgram)',
    ],
    [
      "tcp://[127.0.0.1]:80",
      'Cannot parse address "tcp://[127.0.0.1]:80": only IPv6 addresses go in brackets',
    ],
    [
      "tcp://bad host:80",
      'Cannot use host "bad host": the label "bad host" may only hold letters, digits and inner hyphens',
    ],
    [
      "tcp://999.1.1.1:80",
      'Cannot use host "999.1.1.1": not a valid IPv4 address (four numbers 0 to 255 separated by dots)',
    ],
    ["unix:", 'Cannot parse address "unix:": the path is empty'],
    [
      "unix://relative",
      'Cannot parse address "unix://relative": write unix:///absolute/path, unix:relative/path or unix:@name',
    ],
    [
      "localhost:50000",
      'Cannot parse address "localhost:50000": expected tcp://HOST:PORT, udp://HOST:PORT, unix:///PATH or unixgram:///PATH',
    ],
  ])("rejects %s with one clear line", (text, message) => {
    expect(() => parseAddress(text)).toThrow(message);
  });

  test("rejects a UNIX path longer than sun_path", () => {
    expect(() => parseAddress(`unix:///tmp/${"x".repeat(120)}`)).toThrow(
      expect.objectContaining({ code: "ERR_SOCKLAB_PATH_TOO_LONG" }),
    );
  });
});

describe("formatAddress()", () => {
  test.each<[SocketAddress, string]>([
    [{ transport: "tcp", host: "127.0.0.1", port: 50000 }, "tcp://127.0.0.1:50000"],
    [{ transport: "udp", host: "::1", port: 53 }, "udp://[::1]:53"],
    [{ transport: "tcp", host: "", port: 50000 }, "tcp://:50000"],
    [{ transport: "tcp", host: "fe80::1%eth0", port: 80 }, "tcp://[fe80::1%25eth0]:80"],
    [{ transport: "tls", host: "127.0.0.1", port: 4433 }, "tls://127.0.0.1:4433"],
    [
      { transport: "unix", path: "/tmp/unixsocket_tcp", abstract: false },
      "unix:///tmp/unixsocket_tcp",
    ],
    [{ transport: "unix", path: "rel/s", abstract: false }, "unix:rel/s"],
    [{ transport: "unixgram", path: "name", abstract: true }, "unixgram:@name"],
    [{ transport: "unix", path: "/tmp/a b%", abstract: false }, "unix:///tmp/a%20b%25"],
  ])("writes %j as %s", (address, text) => expect(formatAddress(address)).toBe(text));

  test("formatHostPort() brackets IPv6", () => {
    expect(formatHostPort("::1", 1)).toBe("[::1]:1");
    expect(formatHostPort("127.0.0.1", 1)).toBe("127.0.0.1:1");
  });
});

describe("parseAddress(formatAddress(a)) round-trips", () => {
  const ipv4 = fc.ipV4();
  const ipv6 = fc.ipV6();
  const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?$/);
  const name = fc
    .array(label, { minLength: 1, maxLength: 4 })
    .map((l) => l.join("."))
    .filter((n) => !/^[0-9.]+$/.test(n));
  const host = fc.oneof(ipv4, ipv6, name, fc.constant(""));
  const ip = fc.record({
    transport: fc.constantFrom("tcp" as const, "tls" as const, "udp" as const),
    host,
    port: fc.integer({ min: 0, max: 65535 }),
  });
  const pathChars = fc
    .string({ unit: "grapheme", minLength: 1, maxLength: 30 })
    .filter((s) => !s.includes("\0"));
  const unix = fc
    .record({
      transport: fc.constantFrom("unix" as const, "unixgram" as const),
      path: pathChars,
      abstract: fc.boolean(),
    })
    .filter(
      (a) =>
        Buffer.byteLength(a.path) <= 107 &&
        (a.abstract || !a.path.startsWith("@")) &&
        (a.abstract || !a.path.startsWith("//")),
    );

  test("for IP addresses", () => {
    fc.assert(
      fc.property(ip, (a) => {
        const back = parseAddress(formatAddress(a));
        expect(back).toEqual(a);
      }),
    );
  });
  test("for UNIX addresses, abstract or not", () => {
    fc.assert(
      fc.property(unix, (a) => {
        expect(parseAddress(formatAddress(a))).toEqual(a);
      }),
    );
  });
});
