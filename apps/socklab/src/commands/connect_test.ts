import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as dgram from "node:dgram";
import { once } from "node:events";
import { open, writeFile } from "node:fs/promises";
import * as net from "node:net";
import { testDir, testWithTools } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { runCli } from "../_test_cli.ts";
import { startNcListen, startSocat, startSocklab } from "./_test_peers.ts";

/** Runs socklab with binary stdin to the end; stdout as bytes. */
async function run(args: readonly string[], input: Buffer) {
  const cli = startSocklab(args);
  cli.child.stdin!.end(input);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** A file with `bytes` in a fresh temp dir, opened for a child's stdin. */
async function inputFile(bytes: Buffer): Promise<number> {
  const dir = await testDir("connect");
  await writeFile(`${dir}/in.bin`, bytes);
  const file = await open(`${dir}/in.bin`, "r");
  onTestFinished(() => file.close());
  return file.fd;
}

/** A UDP port nobody uses now (for socat, which cannot report a port it picked). */
async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket("udp4");
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  const { port } = socket.address();
  socket.close();
  return port;
}

/** A loopback TCP server for the test, half-open like socat; its connections go to `onConnection`. */
async function tcpServer(onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, onConnection);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  onTestFinished(() => {
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

describe("socklab connect against nc and socat", () => {
  testWithTools("nc")(
    "TCP with nc -l: our stdin reaches nc, nc's stdin reaches our stdout, both whole",
    async () => {
      const ours = randomBytes(300_000);
      const theirs = randomBytes(200_000);
      const nc = await startNcListen(
        ["-n", "127.0.0.1", "0"],
        [await inputFile(theirs), "pipe", "pipe"],
      );
      const r = await run(["connect", "127.0.0.1", String(nc.port)], ours);
      expect(r.code).toBe(0);
      expect(r.stdout.equals(theirs)).toBe(true);
      await nc.exited;
      expect(nc.stdout().equals(ours)).toBe(true);
      expect(r.stderr).toBe(
        `connected to tcp://127.0.0.1:${nc.port}\nclosed tcp://127.0.0.1:${nc.port}: 300000 bytes sent, 200000 received\n`,
      );
    },
  );

  testWithTools("socat")(
    "TCP through socat's echo (EXEC:cat): 2 MiB back unchanged, the half-close ends cat",
    async () => {
      const socat = await startSocat(["TCP-LISTEN:0,bind=127.0.0.1", "EXEC:cat"]);
      const input = randomBytes(2 * 1024 * 1024);
      const r = await run(["connect", "-q", `tcp://127.0.0.1:${socat.port}`], input);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.equals(input)).toBe(true);
    },
  );

  testWithTools("socat")("UNIX stream through socat's echo, by path", async () => {
    const dir = await testDir("connect");
    await startSocat([`UNIX-LISTEN:${dir}/s`, "EXEC:cat"]);
    const input = randomBytes(500_000);
    const r = await run(["connect", "-q", `${dir}/s`], input);
    expect(r.code).toBe(0);
    expect(r.stdout.equals(input)).toBe(true);
  });

  testWithTools("nc")("UNIX stream with nc -lU, as unix:///path", async () => {
    const dir = await testDir("connect");
    const theirs = randomBytes(100_000);
    const nc = await startNcListen(["-U", `${dir}/s`], [await inputFile(theirs), "pipe", "pipe"]);
    // Debian's nc quits when the network side ends, even with its own input still unsent: our
    // end of input (the half-close) waits until all of nc's bytes have arrived.
    const client = startSocklab(["connect", "-q", `unix://${dir}/s`]);
    client.child.stdin!.write("hello nc\n");
    let received = 0;
    await new Promise<void>((resolve) => {
      client.child.stdout!.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received >= theirs.length) resolve();
      });
    });
    client.child.stdin!.end();
    expect(await client.exited).toBe(0);
    expect(client.stdout().equals(theirs)).toBe(true);
    await nc.exited;
    expect(nc.stdout().toString()).toBe("hello nc\n");
  });

  testWithTools("socat")(
    "UDP through socat's echo: the datagram comes back within --linger",
    async () => {
      const port = await freeUdpPort();
      await startSocat([`UDP-RECVFROM:${port},bind=127.0.0.1,fork`, "EXEC:cat"]);
      const r = await run(
        ["connect", "-q", "--linger", "2s", `udp://127.0.0.1:${port}`],
        Buffer.from("ping\n"),
      );
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe("ping\n");
    },
  );

  testWithTools("nc")("UDP to nc -ul: each read of stdin is one datagram", async () => {
    const nc = await startNcListen(["-u", "-n", "127.0.0.1", "0"]);
    const r = await run(
      ["connect", "-q", "-u", "--linger", "0", "127.0.0.1", String(nc.port)],
      Buffer.from("one datagram\n"),
    );
    expect(r.code).toBe(0);
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (nc.stdout().toString() === "one datagram\n") resolve();
      };
      nc.child.stdout!.on("data", check);
      check();
    });
  });

  testWithTools("socat")("UNIX datagrams through socat's echo (unixgram:///path)", async () => {
    const dir = await testDir("connect");
    await startSocat([`UNIX-RECVFROM:${dir}/d,fork`, "EXEC:cat"]);
    const r = await run(
      ["connect", "-q", "--linger", "2s", `unixgram://${dir}/d`],
      Buffer.from("Hallo Welt!"),
    );
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe("Hallo Welt!");
  });
});

describe("socklab connect: half-close and one-way modes", () => {
  test("the peer half-closes first: its bytes arrive, and ours still reach it afterwards", async () => {
    const got: Buffer[] = [];
    let ended!: () => void;
    const peerEnded = new Promise<void>((resolve) => {
      ended = resolve;
    });
    const port = await tcpServer((socket) => {
      socket.end("early bye\n"); // FIN before reading anything
      socket.on("data", (chunk: Buffer) => got.push(chunk));
      socket.on("end", () => ended());
    });
    const cli = startSocklab(["connect", "-q", "127.0.0.1", String(port)]);
    // Our stdin stays open until the peer's bytes have been printed.
    await new Promise<void>((resolve) => {
      cli.child.stdout!.on("data", () => {
        if (cli.stdout().toString() === "early bye\n") resolve();
      });
    });
    cli.child.stdin!.end("late data\n");
    await peerEnded;
    expect(Buffer.concat(got).toString()).toBe("late data\n");
    expect(await cli.exited).toBe(0);
  });

  test("--no-shutdown: the end of stdin sends no FIN; the peer's close ends the command", async () => {
    let sawEnd = false;
    let accepted!: (socket: net.Socket) => void;
    const peer = new Promise<net.Socket>((resolve) => {
      accepted = resolve;
    });
    const port = await tcpServer((socket) => {
      socket.on("end", () => {
        sawEnd = true;
      });
      socket.once("data", () => socket.write("answer\n"));
      accepted(socket);
    });
    const cli = startSocklab(["connect", "-q", "--no-shutdown", "127.0.0.1", String(port)]);
    cli.child.stdin!.end("question\n");
    await new Promise<void>((resolve) => {
      cli.child.stdout!.on("data", () => {
        if (cli.stdout().toString() === "answer\n") resolve();
      });
    });
    // The data and a FIN would have left together; the answer came back after both.
    expect(sawEnd).toBe(false);
    (await peer).end();
    expect(await cli.exited).toBe(0);
  });

  test("--recv-only does not read stdin and sends no FIN", async () => {
    const port = await tcpServer((socket) => {
      socket.on("data", () => socket.destroy(new Error("unexpected data")));
      socket.end("from server\n");
    });
    const r = await run(
      ["connect", "-q", "--recv-only", "127.0.0.1", String(port)],
      Buffer.from("not sent"),
    );
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe("from server\n");
  });

  test("--send-only discards what arrives and ends at the end of stdin", async () => {
    let got = "";
    let ended!: () => void;
    const peerEnded = new Promise<void>((resolve) => {
      ended = resolve;
    });
    const port = await tcpServer((socket) => {
      socket.write("discarded\n");
      socket.on("data", (chunk: Buffer) => {
        got += chunk.toString();
      });
      socket.on("end", () => ended());
    });
    const r = await run(
      ["connect", "-q", "--send-only", "127.0.0.1", String(port)],
      Buffer.from("kept"),
    );
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(0);
    await peerEnded;
    expect(got).toBe("kept");
  });
});

describe("socklab connect -x", () => {
  testWithTools("socat", "xxd")("-x dumps each chunk both ways; the lines are xxd's", async () => {
    const socat = await startSocat(["TCP-LISTEN:0,bind=127.0.0.1", "EXEC:cat"]);
    const input = randomBytes(100);
    const r = await run(["connect", "-q", "-x", `tcp://127.0.0.1:${socat.port}`], input);
    expect(r.code).toBe(0);
    const xxd = spawnSync("xxd", [], { input }).stdout.toString();
    const peer = `tcp://127.0.0.1:${socat.port}`;
    expect(r.stderr).toContain(`> 100 bytes to ${peer}\n${xxd}`);
    // The echo may come back in several chunks; their dumps hold every line of xxd's.
    const received = r.stderr
      .split(/^(?=[<>] )/m)
      .filter((block) => block.startsWith("<"))
      .map((block) => block.split("\n").slice(1).join("\n"))
      .join("");
    expect(received).toBe(xxd);
  });
});

describe("socklab connect errors: one line, exit code 1 or 2", () => {
  test("a refused port", async () => {
    const server = net.createServer().listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as net.AddressInfo;
    server.close();
    await once(server, "close");
    const r = await runCli(["connect", `tcp://127.0.0.1:${port}`], "");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `socklab connect: Cannot connect to "127.0.0.1:${port}": connection refused (nobody is listening)\n`,
    );
  });

  test("a UNIX path with no socket", async () => {
    const dir = await testDir("connect");
    const r = await runCli(["connect", `unix://${dir}/none`], "");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `socklab connect: Cannot connect to "${dir}/none": no such file or directory (is the server running?)\n`,
    );
  });

  test.each([
    [[], /Cannot start without an address/],
    [["a", "b", "c"], /Cannot use "c": connect takes at most 2 arguments/],
    [["ftp://x:1"], /unknown scheme "ftp"/],
    [["tcp://127.0.0.1:0"], /port 0 is no server's port/],
    [
      ["--recv-only", "--send-only", "localhost:1"],
      /Cannot use --recv-only and --send-only together/,
    ],
    [["--timeout", "soon", "localhost:1"], /Cannot use --timeout "soon"/],
  ])("usage error for %j: exit code 2", async (args, message) => {
    const r = await runCli(["connect", ...args], "");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^socklab connect: .*\nRun "socklab connect --help" for usage\.\n$/);
  });
});
