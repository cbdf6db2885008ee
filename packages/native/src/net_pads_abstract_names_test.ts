import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { describe, expect, onTestFinished, test } from "vitest";
import { pythonAbstractClient, uniqueName } from "./_test_support.ts";
import { netPadsAbstractNames } from "./net_pads_abstract_names.ts";

/** A plain `net` server on `"\0name"`: what this Node's own bind does. */
async function netServer(name: string): Promise<void> {
  const server = createServer((socket) => socket.end("net answered"));
  server.listen(`\0${name}`);
  await once(server, "listening");
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
}

describe("netPadsAbstractNames()", () => {
  test("agrees with what the kernel shows for net's bind in /proc/net/unix", async () => {
    const name = uniqueName("proc");
    await netServer(name);
    const table = await readFile("/proc/net/unix", "utf8");
    const entries = table.split("\n").filter((line) => line.includes(`@${name}`));
    expect(entries).toHaveLength(1);
    // The kernel prints every NUL of an abstract name as "@": padding shows as a tail of them.
    const shown = entries[0]!.slice(entries[0]!.indexOf(`@${name}`)).trimEnd();
    const padded = `@${name}`.padEnd(108, "@");
    expect(shown).toBe(netPadsAbstractNames() ? padded : `@${name}`);
  });

  test("agrees with whether a Python client reaches a plain net server", async () => {
    const name = uniqueName("python");
    await netServer(name);
    const reached = await pythonAbstractClient(name, "").then(
      (reply) => reply === "b'net answered'",
      () => false,
    );
    expect(reached).toBe(!netPadsAbstractNames());
  });

  test("is the same answer every time, and matches the Node version's known behaviour", () => {
    const major = Number(process.versions.node.split(".")[0]);
    expect(netPadsAbstractNames()).toBe(netPadsAbstractNames());
    if (major === 20) expect(netPadsAbstractNames()).toBe(true);
    if (major >= 24) expect(netPadsAbstractNames()).toBe(false);
  });
});
