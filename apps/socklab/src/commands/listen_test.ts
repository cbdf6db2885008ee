import { createHash, randomBytes } from "node:crypto";
import { open, readFile, writeFile } from "node:fs/promises";
import * as net from "node:net";
import { testDir, testWithTools } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import {
  type Peer,
  sha256File,
  startListening,
  startProcess,
  startSocklab,
} from "./_test_peers.ts";

/** A file with `bytes` in a fresh temp dir, opened for a child's stdin. */
async function inputFile(dir: string, bytes: Buffer): Promise<number> {
  await writeFile(`${dir}/in.bin`, bytes);
  const file = await open(`${dir}/in.bin`, "r");
  onTestFinished(() => file.close());
  return file.fd;
}

/** Resolves once a process's stdout holds `expected`. */
function stdoutIs(peer: Peer, expected: string): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (peer.stdout().toString() === expected) resolve();
    };
    peer.child.stdout!.on("data", check);
    check();
  });
}

describe("socklab listen against nc and socat", () => {
  testWithTools("nc")(
    "a 50 MB random file through listen into a file, sent by nc -N: same SHA-256",
    async () => {
      const dir = await testDir("listen");
      const source = randomBytes(50 * 1024 * 1024);
      await writeFile(`${dir}/src.bin`, source);
      const expected = createHash("sha256").update(source).digest("hex");
      const sink = await open(`${dir}/dst.bin`, "w");
      onTestFinished(() => sink.close());
      const server = await startListening(
        ["listen", "tcp://127.0.0.1:0"],
        ["ignore", sink.fd, "pipe"],
      );
      const src = await open(`${dir}/src.bin`, "r");
      onTestFinished(() => src.close());
      const nc = startProcess(
        "nc",
        ["-N", "127.0.0.1", String(server.port)],
        [src.fd, "ignore", "pipe"],
      );
      expect(await nc.exited).toBe(0);
      expect(await server.exited).toBe(0);
      expect(await sha256File(`${dir}/dst.bin`)).toBe(expected);
      expect(server.stderr()).toMatch(/: 0 bytes sent, 52428800 received\n$/);
    },
    60_000,
  );

  testWithTools("socat")(
    "UNIX stream with socat as the client: both ways, half-close each way",
    async () => {
      const dir = await testDir("listen");
      const ours = randomBytes(200_000);
      const theirs = randomBytes(300_000);
      const server = await startListening(
        ["listen", "-q", `unix://${dir}/s`],
        [await inputFile(dir, ours), "pipe", "pipe"],
      );
      await writeFile(`${dir}/theirs.bin`, theirs);
      // Reads one file and writes another: each direction ends with its own half-close.
      const socat = startProcess("socat", [
        `OPEN:${dir}/theirs.bin,rdonly!!CREATE:${dir}/got.bin`,
        `UNIX-CONNECT:${dir}/s`,
      ]);
      expect(await server.exited).toBe(0);
      expect(server.stdout().equals(theirs)).toBe(true);
      expect(await socat.exited).toBe(0);
      expect((await readFile(`${dir}/got.bin`)).equals(ours)).toBe(true);
    },
  );

  testWithTools("nc")("-k serves nc clients one after another", async () => {
    const server = await startListening(
      ["listen", "-k", "tcp://127.0.0.1:0"],
      ["ignore", "pipe", "pipe"],
    );
    for (const text of ["first\n", "second\n"]) {
      const nc = startProcess("nc", ["-N", "127.0.0.1", String(server.port)]);
      nc.child.stdin!.end(text);
      expect(await nc.exited).toBe(0);
    }
    await stdoutIs(server, "first\nsecond\n");
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });

  testWithTools("nc")(
    "UDP: datagrams from nc -u reach stdout; stdin answers the last sender",
    async () => {
      const server = await startListening(["listen", "-q", "udp://127.0.0.1:0"]);
      const nc = startProcess("nc", ["-u", "127.0.0.1", String(server.port)]);
      nc.child.stdin!.write("hello from nc\n");
      await stdoutIs(server, "hello from nc\n");
      server.child.stdin!.write("answer\n");
      await stdoutIs(nc, "answer\n");
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    },
  );

  testWithTools("socat")(
    "UNIX datagrams: socat's datagram arrives and gets the answer",
    async () => {
      const dir = await testDir("listen");
      const server = await startListening(["listen", "-q", `unixgram://${dir}/d`]);
      const socat = startProcess("socat", ["-", `UNIX-SENDTO:${dir}/d,bind=${dir}/c`]);
      socat.child.stdin!.write("Hallo Welt!\n");
      await stdoutIs(server, "Hallo Welt!\n");
      server.child.stdin!.write("Antwort\n");
      await stdoutIs(socat, "Antwort\n");
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    },
  );
});

describe("socklab listen --broker", () => {
  testWithTools("nc")("what one nc client sends reaches the other", async () => {
    const server = await startListening(["listen", "--broker", "tcp://127.0.0.1:0"]);
    const a = startProcess("nc", ["127.0.0.1", String(server.port)]);
    await server.stderrLine(/^connection from .*\(#1\)/);
    const b = startProcess("nc", ["127.0.0.1", String(server.port)]);
    await server.stderrLine(/^connection from .*\(#2\)/);
    a.child.stdin!.write("from a\n");
    await stdoutIs(b, "from a\n");
    b.child.stdin!.write("from b\n");
    await stdoutIs(a, "from b\n");
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });
});

describe("socklab listen errors", () => {
  test("an occupied port: one line, exit code 1", async () => {
    const taken = net.createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => taken.once("listening", resolve));
    onTestFinished(() => {
      taken.close();
    });
    const { port } = taken.address() as net.AddressInfo;
    const cli = startSocklab(["listen", `tcp://127.0.0.1:${port}`]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toBe(
      `socklab listen: Cannot bind "127.0.0.1:${port}": address already in use\n`,
    );
  });

  test("-k on a datagram address is a usage error", async () => {
    const cli = startSocklab(["listen", "-k", "udp://127.0.0.1:0"]);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(/^socklab listen: Cannot use --keep-open on a datagram address/);
  });
});
