import { execFileSync } from "node:child_process";
import { createHash, randomBytes, X509Certificate } from "node:crypto";
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

/** A certificate for localhost, 127.0.0.1 and ::1 made by openssl, as a user would make one. */
async function makeCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
}

/** Resolves with the match once a process's stdout matches `pattern`. */
function stdoutMatch(peer: Peer, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const m = pattern.exec(peer.stdout().toString("latin1"));
      if (m !== null) {
        peer.child.stdout!.off("data", check);
        resolve(m);
      }
    };
    peer.child.stdout!.on("data", check);
    peer.exited.then(() => {
      check();
      reject(new Error(`ended before ${pattern}: ${peer.stdout()} ${peer.stderr()}`));
    });
    check();
  });
}

/** `openssl s_server` on a port of its choosing, serving one client with the given certificate. */
async function startOpensslServer(pem: {
  cert: string;
  key: string;
}): Promise<Peer & { port: number }> {
  const server = startProcess("openssl", [
    "s_server",
    "-accept",
    "127.0.0.1:0",
    "-cert",
    pem.cert,
    "-key",
    pem.key,
    "-naccept",
    "1",
  ]);
  const m = await stdoutMatch(server, /ACCEPT 127\.0\.0\.1:(\d+)/);
  return Object.assign(server, { port: Number(m[1]) });
}

describe("socklab connect tls:// against openssl s_server", () => {
  testWithTools("openssl")(
    "with --ca the certificate verifies and bytes go both ways",
    async () => {
      const dir = await testDir("tls");
      const pem = await makeCertificate(dir);
      const server = await startOpensslServer(pem);
      const client = startSocklab(["connect", "--ca", pem.cert, `tls://localhost:${server.port}`]);
      await client.stderrLine(/^connected to /);
      client.child.stdin!.write("from the client\n");
      await stdoutMatch(server, /from the client\n/);
      server.child.stdin!.write("from the server\n");
      await stdoutMatch(client, /^from the server\n$/);
      // Our end of stdin is a TLS close_notify and a FIN: s_server closes, and we end.
      client.child.stdin!.end();
      expect(await client.exited).toBe(0);
      expect(client.stderr()).toMatch(/: 16 bytes sent, 16 received\n$/);
    },
    20_000,
  );

  testWithTools("openssl")(
    "without --ca a self-signed certificate fails with one line and exit code 1",
    async () => {
      const dir = await testDir("tls");
      const server = await startOpensslServer(await makeCertificate(dir));
      const client = startSocklab(
        ["connect", `tls://localhost:${server.port}`],
        ["ignore", "pipe", "pipe"],
      );
      expect(await client.exited).toBe(1);
      expect(client.stderr()).toBe(
        `socklab connect: Cannot connect to "tls://localhost:${server.port}": certificate is self-signed (use --ca FILE or --insecure)\n`,
      );
    },
    20_000,
  );

  testWithTools("openssl")(
    "with --insecure it connects, and says so in one line",
    async () => {
      const dir = await testDir("tls");
      const server = await startOpensslServer(await makeCertificate(dir));
      const client = startSocklab(["connect", "--insecure", `tls://127.0.0.1:${server.port}`]);
      await client.stderrLine(/^connected to /);
      client.child.stdin!.write("hi\n");
      await stdoutMatch(server, /hi\n/);
      client.child.stdin!.end();
      expect(await client.exited).toBe(0);
      expect(client.stderr()).toMatch(
        /^socklab: --insecure: the server's TLS certificate is not verified\nconnected to /,
      );
    },
    20_000,
  );

  testWithTools("openssl")(
    "--cert and --key as a client certificate for a server that demands one; -x dumps plaintext",
    async () => {
      const dir = await testDir("tls");
      const pem = await makeCertificate(dir);
      // -Verify 1: s_server refuses a client without a certificate its -CAfile vouches for.
      const server = startProcess("openssl", [
        "s_server",
        "-accept",
        "127.0.0.1:0",
        "-cert",
        pem.cert,
        "-key",
        pem.key,
        "-naccept",
        "1",
        "-Verify",
        "1",
        "-verify_return_error",
        "-CAfile",
        pem.cert,
      ]);
      const port = Number((await stdoutMatch(server, /ACCEPT 127\.0\.0\.1:(\d+)/))[1]);
      const client = startSocklab([
        "connect",
        "-x",
        "--ca",
        pem.cert,
        "--cert",
        pem.cert,
        "--key",
        pem.key,
        `tls://localhost:${port}`,
      ]);
      await client.stderrLine(/^connected to /);
      client.child.stdin!.write("Hello TLS\n");
      await stdoutMatch(server, /Hello TLS\n/);
      client.child.stdin!.end();
      expect(await client.exited).toBe(0);
      expect(client.stderr()).toContain("> 10 bytes to ");
      expect(client.stderr()).toContain("Hello TLS.");
      expect(server.stdout().toString()).toMatch(/Client certificate[\s\S]*CN\s*=\s*localhost/);
    },
    20_000,
  );

  test("--insecure on a TLS listener is a usage error: it verifies no client", async () => {
    const server = startSocklab(
      ["listen", "--insecure", "tls://127.0.0.1:0"],
      ["ignore", "pipe", "pipe"],
    );
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toMatch(
      /^socklab listen: Cannot use --insecure without a tls:\/\/ address to connect to: a listener verifies no client\n/,
    );
  });

  test("a TLS option without a tls:// address is a usage error", async () => {
    const client = startSocklab(
      ["connect", "--insecure", "tcp://127.0.0.1:9"],
      ["ignore", "pipe", "pipe"],
    );
    expect(await client.exited).toBe(2);
    expect(client.stderr()).toMatch(
      /^socklab connect: Cannot use --insecure without a tls:\/\/ address\n/,
    );
  });
});

/** `openssl s_client` to a port for the name localhost, reading its stdin from a pipe. */
function startOpensslClient(port: number, extra: readonly string[] = []): Peer {
  return startProcess("openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${port}`,
    "-servername",
    "localhost",
    ...extra,
  ]);
}

describe("socklab listen tls:// against openssl s_client", () => {
  testWithTools("openssl")(
    "a throwaway certificate: its fingerprint is printed, bytes go both ways, our EOF ends the client",
    async () => {
      const server = await startListening(["listen", "tls://127.0.0.1:0"]);
      const line = await server.stderrLine(
        /SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$/,
      );
      const client = startOpensslClient(server.port, ["-showcerts", "-ign_eof"]);
      client.child.stdin!.write("from s_client\n");
      await stdoutMatch(server, /^from s_client\n$/);
      server.child.stdin!.write("from listen\n");
      await stdoutMatch(client, /from listen\n/);
      server.child.stdin!.end();
      // Our half-close reaches s_client as a close_notify; it leaves, and listen ends.
      expect(await client.exited).toBe(0);
      expect(await server.exited).toBe(0);
      expect(server.stderr()).toMatch(/: 12 bytes sent, 14 received\n$/);
      // The certificate s_client was shown is the one whose fingerprint listen printed.
      const shown = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(
        client.stdout().toString(),
      );
      expect(new X509Certificate(shown![0]).fingerprint256).toBe(line[1]);
    },
    20_000,
  );

  testWithTools("openssl")(
    "--cert and --key: s_client verifies the certificate against it as CA",
    async () => {
      const dir = await testDir("tls");
      const pem = await makeCertificate(dir);
      const server = await startListening([
        "listen",
        "--cert",
        pem.cert,
        "--key",
        pem.key,
        "tls://127.0.0.1:0",
      ]);
      const client = startOpensslClient(server.port, [
        "-quiet",
        "-CAfile",
        pem.cert,
        "-verify_return_error",
        "-verify_hostname",
        "localhost",
      ]);
      client.child.stdin!.write("verified\n");
      await stdoutMatch(server, /^verified\n$/);
      server.child.stdin!.end();
      expect(await client.exited).toBe(0);
      expect(await server.exited).toBe(0);
      expect(server.stderr()).not.toMatch(/fingerprint/);
    },
    20_000,
  );

  testWithTools("openssl")(
    "a plain TCP client is dropped with one line and the next TLS client is served",
    async () => {
      const server = await startListening(["listen", "-k", "tls://127.0.0.1:0"]);
      const plain = net.connect(server.port, "127.0.0.1");
      plain.end("GET / HTTP/1.0\r\n\r\n");
      plain.resume();
      await new Promise((resolve) => plain.once("close", resolve));
      const dropped = await server.stderrLine(
        /^Cannot serve "127\.0\.0\.1:\d+": TLS handshake failed: .+$/,
      );
      expect(dropped[0]).not.toContain("\n");
      const client = startSocklab(["connect", "--insecure", `tls://127.0.0.1:${server.port}`]);
      client.child.stdin!.end("next\n");
      await stdoutMatch(server, /^next\n$/);
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      expect(server.stderr().match(/^Cannot serve/gm)).toHaveLength(1);
    },
    20_000,
  );
});

describe("socklab relay between tcp:// and tls://", () => {
  testWithTools("openssl", "nc")(
    "tcp:// to tls://: 1 MB from nc through the relay into a TLS listener, same SHA-256",
    async () => {
      const dir = await testDir("tls");
      const pem = await makeCertificate(dir);
      const payload = randomBytes(1024 * 1024);
      await writeFile(`${dir}/src.bin`, payload);
      const sink = await open(`${dir}/dst.bin`, "w");
      onTestFinished(() => sink.close());
      const target = await startListening(
        ["listen", "--cert", pem.cert, "--key", pem.key, "tls://127.0.0.1:0"],
        ["ignore", sink.fd, "pipe"],
      );
      const relay = startSocklab([
        "relay",
        "--ca",
        pem.cert,
        "tcp://127.0.0.1:0",
        `tls://localhost:${target.port}`,
      ]);
      const port = Number((await stdoutMatch(relay, /listening on tcp:\/\/127\.0\.0\.1:(\d+)/))[1]);
      const src = await open(`${dir}/src.bin`, "r");
      onTestFinished(() => src.close());
      const nc = startProcess("nc", ["-N", "127.0.0.1", String(port)], [src.fd, "ignore", "pipe"]);
      expect(await nc.exited).toBe(0);
      expect(await target.exited).toBe(0);
      expect(await sha256File(`${dir}/dst.bin`)).toBe(
        createHash("sha256").update(payload).digest("hex"),
      );
      await stdoutMatch(relay, /: 1048576 bytes to tls:\/\/localhost:\d+, 0 back/);
    },
    30_000,
  );

  testWithTools("openssl")(
    "tls:// to tcp://: 1 MB from a TLS client through the relay into a TCP listener, same SHA-256",
    async () => {
      const dir = await testDir("tls");
      const payload = randomBytes(1024 * 1024);
      await writeFile(`${dir}/src.bin`, payload);
      const sink = await open(`${dir}/dst.bin`, "w");
      onTestFinished(() => sink.close());
      const target = await startListening(
        ["listen", "tcp://127.0.0.1:0"],
        ["ignore", sink.fd, "pipe"],
      );
      const relay = startSocklab(["relay", "tls://127.0.0.1:0", `tcp://127.0.0.1:${target.port}`]);
      await stdoutMatch(relay, /SHA-256 fingerprint /);
      const port = Number((await stdoutMatch(relay, /listening on tls:\/\/127\.0\.0\.1:(\d+)/))[1]);
      const src = await open(`${dir}/src.bin`, "r");
      onTestFinished(() => src.close());
      const client = startSocklab(
        ["connect", "--insecure", `tls://127.0.0.1:${port}`],
        [src.fd, "ignore", "pipe"],
      );
      expect(await client.exited).toBe(0);
      expect(await target.exited).toBe(0);
      expect(await sha256File(`${dir}/dst.bin`)).toBe(
        createHash("sha256").update(payload).digest("hex"),
      );
      expect((await readFile(`${dir}/dst.bin`)).length).toBe(payload.length);
      await stdoutMatch(relay, /: 1048576 bytes to tcp:\/\/127\.0\.0\.1:\d+, 0 back/);
    },
    30_000,
  );
});
