import { X509Certificate } from "node:crypto";
import * as net from "node:net";
import { parseAddress } from "@socklab/core";
import { describe, expect, onTestFinished, test } from "vitest";
import { connectStream, listenStream } from "./stream_address.ts";
import { throwawayCertificate } from "./throwaway_certificate.ts";

describe("tls:// ends", () => {
  test("throwawayCertificate() is for localhost, 127.0.0.1 and ::1, with its SHA-256 fingerprint", async () => {
    const made = await throwawayCertificate();
    const cert = new X509Certificate(made.cert);
    expect(cert.subject).toBe("CN=localhost");
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkIP("::1")).toBe("::1");
    expect(made.fingerprint).toBe(cert.fingerprint256);
    expect(made.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  test("a throwaway certificate: refused without trust, verified with it as ca, plaintext both ways and half-close", async () => {
    const fingerprints: string[] = [];
    const failures: string[] = [];
    const made = await throwawayCertificate();
    const listener = await listenStream(
      parseAddress("tls://127.0.0.1:0"),
      async (conn) => {
        const got = await conn.readToEnd();
        await conn.write(`echo:${got}`);
      },
      {
        tls: { cert: made.cert, key: made.key },
        onThrowawayCertificate: (f) => fingerprints.push(f),
        onHandshakeError: (err) => failures.push(err.message),
      },
    );
    onTestFinished(() => listener.close({ graceMs: 0 }));
    expect(fingerprints).toEqual([]);
    const [uri] = listener.addresses;
    expect(uri).toMatch(/^tls:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(/:(\d+)$/.exec(uri!)![1]);
    await expect(connectStream(parseAddress(`tls://localhost:${port}`))).rejects.toThrow(
      `Cannot connect to "tls://localhost:${port}": certificate is self-signed (use --ca FILE or --insecure)`,
    );
    const conn = await connectStream(parseAddress(`tls://localhost:${port}`), {
      tls: { ca: made.cert },
    });
    await conn.end("hello");
    expect(String(await conn.readToEnd())).toBe("echo:hello");
    await conn.close();
    // The refused client is one failure, and the server went on.
    expect(failures).toHaveLength(1);
  });

  test("a plain TCP client is one handshake failure; the throwaway certificate is announced once", async () => {
    const fingerprints: string[] = [];
    const failures: string[] = [];
    const listener = await listenStream(
      parseAddress("tls://127.0.0.1:0"),
      async (conn) => {
        await conn.write("served");
      },
      {
        onThrowawayCertificate: (f) => fingerprints.push(f),
        onHandshakeError: (err) => failures.push(err.message),
      },
    );
    onTestFinished(() => listener.close({ graceMs: 0 }));
    expect(fingerprints).toHaveLength(1);
    const port = Number(/:(\d+)$/.exec(listener.addresses[0]!)![1]);
    const plain = net.connect(port, "127.0.0.1");
    plain.end("hello\n");
    plain.resume();
    await new Promise((resolve) => plain.once("close", resolve));
    expect(failures).toEqual([
      expect.stringMatching(/^Cannot serve "127\.0\.0\.1:\d+": TLS handshake failed: \S.*$/),
    ]);
    const conn = await connectStream(parseAddress(`tls://127.0.0.1:${port}`), {
      tls: { insecure: true },
    });
    expect(String(await conn.readToEnd())).toBe("served");
    await conn.close();
  });

  test("a certificate for other names is refused with the names it is for", async () => {
    const made = await throwawayCertificate();
    // 127.0.0.2 is loopback too, and not among the throwaway certificate's names.
    const listener = await listenStream(parseAddress("tls://127.0.0.2:0"), async () => {}, {
      tls: { cert: made.cert, key: made.key },
    });
    onTestFinished(() => listener.close({ graceMs: 0 }));
    const uri = listener.addresses[0]!;
    await expect(connectStream(parseAddress(uri), { tls: { ca: made.cert } })).rejects.toThrow(
      `Cannot connect to "${uri}": certificate is not for "127.0.0.2" but for DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1 (use --insecure to accept it anyway)`,
    );
  });

  test("listenStream() wants a certificate and its key together", async () => {
    await expect(
      listenStream(parseAddress("tls://127.0.0.1:0"), async () => {}, { tls: { cert: "x" } }),
    ).rejects.toThrow(
      'Cannot listen on "tls://127.0.0.1:0": give both a certificate and its key, or neither',
    );
  });
});
