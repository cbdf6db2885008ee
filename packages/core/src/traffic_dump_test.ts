import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { hasCommand } from "./testing.ts";
import { formatTrafficDump } from "./traffic_dump.ts";

const needXxd = hasCommand("xxd") || process.env.CI === "true";

describe("formatTrafficDump()", () => {
  test("formatTrafficDump() writes the documented example", () => {
    expect(formatTrafficDump("sent", "tcp://127.0.0.1:80", Buffer.from("Hello\n"))).toBe(
      "> 6 bytes to tcp://127.0.0.1:80\n00000000: 4865 6c6c 6f0a                           Hello.\n",
    );
  });

  test("formatTrafficDump() names a received chunk's sender and says 1 byte", () => {
    expect(formatTrafficDump("received", "unix:@x", Buffer.from("A"), 16)).toBe(
      "< 1 byte from unix:@x\n00000010: 41                                       A\n",
    );
  });

  test("formatTrafficDump() of an empty datagram is the header alone", () => {
    expect(formatTrafficDump("received", "udp://[::1]:53", Buffer.alloc(0))).toBe(
      "< 0 bytes from udp://[::1]:53\n",
    );
  });

  test.runIf(needXxd)("formatTrafficDump() lines are xxd -o OFFSET's lines", () => {
    const bytes = randomBytes(1000);
    const xxd = spawnSync("xxd", ["-o", "4096"], { input: bytes });
    expect(xxd.status).toBe(0);
    const dump = formatTrafficDump("sent", "tcp://h:1", bytes, 4096);
    expect(dump).toBe(`> 1000 bytes to tcp://h:1\n${xxd.stdout.toString()}`);
  });
});
