import { isIP } from "node:net";
import { Duplex } from "node:stream";
import {
  type ConnectionOptions,
  type PeerCertificate,
  rootCertificates,
  type SecureContext,
  TLSSocket,
  connect as tlsConnect,
} from "node:tls";
import { SocketError, StreamConnection, TimeoutError } from "@socklab/core";

/** TLS settings of a `tls://` end: certificates in PEM, and whether to verify the peer. */
export interface TlsOptions {
  /** Our certificate (a server's; a client's when the server asks for one), PEM. */
  cert?: string | Buffer;
  /** The private key of `cert`, PEM. */
  key?: string | Buffer;
  /** Certificate authorities trusted besides the system's, PEM (one or several certificates). */
  ca?: string | Buffer;
  /** Clients: accept any server certificate (self-signed, expired, for another name). */
  insecure?: boolean;
}

/** Options of {@linkcode secureClient}. */
export interface SecureClientOptions extends TlsOptions {
  /** The host name the certificate must be for; sent as SNI unless it is an IP literal. */
  host: string;
  /** The address as written, for messages (`tls://127.0.0.1:4433`). */
  label: string;
  /** Give up on the handshake after this many milliseconds. Default 10 000. */
  timeoutMs?: number;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** A Node stream over a connection, for a TLSSocket to read and write its records through. */
function duplexOf(conn: StreamConnection): Duplex {
  const chunks = conn[Symbol.asyncIterator]();
  return new Duplex({
    allowHalfOpen: true,
    read() {
      chunks.next().then(
        (r) => this.push(r.done === true ? null : r.value),
        (err: Error) => this.destroy(err),
      );
    },
    write(chunk: Buffer, _encoding, callback) {
      conn.write(chunk).then(() => callback(), callback);
    },
    final(callback) {
      conn.end().then(() => callback(), callback);
    },
    destroy(err, callback) {
      conn.destroy();
      callback(err);
    },
  });
}

/** Waits for a TLSSocket's handshake; a timeout or failure destroys it. */
function handshake(socket: TLSSocket, event: string, timeoutMs: number, label: string) {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      const err = new TimeoutError(
        `Cannot finish the TLS handshake with "${label}": no answer within ${timeoutMs} ms`,
        timeoutMs,
      );
      socket.destroy();
      reject(err);
    }, timeoutMs);
    const settle = (err?: Error): void => {
      clearTimeout(timer);
      socket.off(event, onSecure);
      socket.off("error", settle);
      socket.off("close", onClose);
      socket.off("end", onClose);
      if (err === undefined) resolve();
      else {
        socket.destroy();
        reject(err);
      }
    };
    const onSecure = (): void => settle();
    const onClose = (): void =>
      settle(Object.assign(new Error("the peer closed the connection"), { code: "ECONNRESET" }));
    socket.once(event, onSecure);
    socket.once("error", settle);
    socket.once("close", onClose);
    socket.once("end", onClose);
  });
}

/** One line for a failed handshake: what went wrong, and what to do about a certificate we do not trust. */
function describeTlsError(err: Error & { code?: string }): string {
  const trust = "(use --ca FILE or --insecure)";
  switch (err.code) {
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
      return `certificate is self-signed ${trust}`;
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
      return `certificate is signed by an unknown authority ${trust}`;
    case "CERT_HAS_EXPIRED":
      return `certificate has expired ${trust}`;
    case "CERT_NOT_YET_VALID":
      return `certificate is not yet valid ${trust}`;
    case "ERR_TLS_CERT_ALTNAME_INVALID": {
      const { host, cert } = err as { host?: string; cert?: PeerCertificate };
      const names = cert?.subjectaltname ?? (cert?.subject?.CN ? `CN=${cert.subject.CN}` : "");
      return `certificate is not for "${host}"${names === "" ? "" : ` but for ${names}`} (use --insecure to accept it anyway)`;
    }
    case "ECONNRESET":
      return "the peer closed the connection during the TLS handshake";
    default: {
      // OpenSSL's errors carry a short reason ("wrong version number"); its message spans lines.
      const reason = (err as { reason?: unknown }).reason;
      const text = typeof reason === "string" && reason !== "" ? reason : err.message;
      return `TLS handshake failed: ${text.trim().split("\n")[0]}`;
    }
  }
}

/**
 * Starts TLS as a client over a connected stream: SNI with the host name (not
 * for an IP literal), the server verified against the system's authorities
 * and `options.ca` unless `options.insecure`.
 *
 * @param conn The connection (TCP, usually), which the result takes over.
 * @param options The host to verify, certificates, timeout.
 * @returns A connection whose reads and writes are the plaintext.
 * @throws {SocketError} `Cannot connect to "tls://127.0.0.1:4433": certificate is self-signed (use --ca FILE or --insecure)`.
 * @example
 * ```ts
 * import { connectTcp } from "@socklab/tcp-client";
 * import { secureClient } from "@socklab/relay";
 * const tcp = await connectTcp({ host: "localhost", port: 4433 });
 * const conn = await secureClient(tcp, { host: "localhost", label: "tls://localhost:4433" });
 * ```
 */
export async function secureClient(
  conn: StreamConnection,
  options: SecureClientOptions,
): Promise<StreamConnection> {
  const socket = tlsConnect({
    socket: duplexOf(conn),
    ...(isIP(options.host) === 0 && options.host !== "" ? { servername: options.host } : {}),
    host: options.host,
    rejectUnauthorized: options.insecure !== true,
    ...pems(options),
  });
  try {
    await handshake(
      socket,
      "secureConnect",
      options.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      options.label,
    );
  } catch (err) {
    conn.destroy();
    if (err instanceof TimeoutError) throw err;
    throw new SocketError(
      `Cannot connect to "${options.label}": ${describeTlsError(err as Error)}`,
      { cause: err },
    );
  }
  return new StreamConnection(socket, { remote: conn.remote, local: conn.local });
}

/**
 * Starts TLS as a server over an accepted stream.
 *
 * @param conn The accepted connection, which the result takes over.
 * @param context The server's certificate and key (`tls.createSecureContext`).
 * @param timeoutMs Give up on a client that does not finish its handshake in this time.
 * @returns A connection whose reads and writes are the plaintext.
 * @throws {SocketError} `TLS handshake with "127.0.0.1:40390" failed: wrong version number` for a client that speaks no TLS.
 * @example
 * ```ts
 * import { createSecureContext } from "node:tls";
 * import { secureServer } from "@socklab/relay";
 * const plain = await secureServer(conn, createSecureContext({ cert, key }));
 * ```
 */
export async function secureServer(
  conn: StreamConnection,
  context: SecureContext,
  timeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS,
): Promise<StreamConnection> {
  const socket = new TLSSocket(duplexOf(conn) as never, { isServer: true, secureContext: context });
  try {
    await handshake(socket, "secure", timeoutMs, conn.remote);
  } catch (err) {
    conn.destroy();
    if (err instanceof TimeoutError) throw err;
    throw new SocketError(`Cannot serve "${conn.remote}": ${describeTlsError(err as Error)}`, {
      cause: err,
    });
  }
  return new StreamConnection(socket, { remote: conn.remote, local: conn.local });
}

function pems(options: TlsOptions): Pick<ConnectionOptions, "cert" | "key" | "ca"> {
  return {
    ...(options.cert === undefined ? {} : { cert: options.cert }),
    ...(options.key === undefined ? {} : { key: options.key }),
    // Node replaces the system's authorities with `ca`; keep them, as curl does with --cacert plus the store.
    ...(options.ca === undefined ? {} : { ca: [...rootCertificates, options.ca] }),
  };
}
