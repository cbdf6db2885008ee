import { readFileSync } from "node:fs";
import { type SocketAddress, SocklabError } from "@socklab/core";
import type { ListenStreamOptions, TlsOptions } from "@socklab/relay";
import { UsageError } from "../command.ts";
import type { Output } from "../output.ts";

/** The TLS options of connect, listen and relay, spread into each command's options. */
export const TLS_OPTIONS = {
  cert: {
    type: "string",
    valueName: "FILE",
    description:
      "tls://: our certificate, PEM (a listener's; a client's when the server asks for one)",
  },
  key: {
    type: "string",
    valueName: "FILE",
    description: "tls://: the private key of --cert, PEM",
  },
  ca: {
    type: "string",
    valueName: "FILE",
    description: "tls://: trust these certificate authorities (PEM) besides the system's",
  },
  insecure: {
    type: "boolean",
    description: "tls://: accept any server certificate (self-signed, expired, another name)",
  },
} as const;

/** The values of {@linkcode TLS_OPTIONS} as parsed. */
export interface TlsValues {
  cert?: string | undefined;
  key?: string | undefined;
  ca?: string | undefined;
  insecure?: boolean | undefined;
}

/** What a command passes to connectStream, listenStream or relayStreams for its `tls://` ends. */
export type TlsSettings = Pick<
  ListenStreamOptions,
  "tls" | "onThrowawayCertificate" | "onHandshakeError"
>;

function read(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES"
          ? "permission denied"
          : code === "EISDIR"
            ? "it is a directory"
            : (err as Error).message;
    throw new SocklabError(`Cannot read --${name} "${path}": ${why}`);
  }
}

/**
 * Reads the TLS options for the addresses of a command: the PEM files, a note on
 * stderr for --insecure, and the lines for a throwaway certificate and a failed
 * client handshake. TLS options with no `tls://` address are a usage error, and so
 * are --ca and --insecure with no `tls://` address to connect to.
 *
 * @param values The parsed option values.
 * @param log Where events and notes go.
 * @param ends The address the command listens on and the one it connects to.
 * @returns Settings to spread into the connect, listen or relay options.
 * @throws {UsageError} for TLS options without a `tls://` address, or --key without --cert.
 * @example
 * ```ts
 * const conn = await connectStream(address, { timeoutMs, ...tlsSettings(values, log, { connect: address }) });
 * ```
 */
export function tlsSettings(
  values: TlsValues,
  log: Output,
  ends: { listen?: SocketAddress; connect?: SocketAddress },
): TlsSettings {
  const given = (["cert", "key", "ca", "insecure"] as const).filter(
    (name) => values[name] !== undefined && values[name] !== false,
  );
  const connects = ends.connect?.transport === "tls";
  if (!connects && ends.listen?.transport !== "tls") {
    if (given.length > 0) {
      throw new UsageError(`Cannot use --${given[0]} without a tls:// address`);
    }
    return {};
  }
  const verifies = given.find((name) => name === "ca" || name === "insecure");
  if (!connects && verifies !== undefined) {
    throw new UsageError(
      `Cannot use --${verifies} without a tls:// address to connect to: a listener verifies no client`,
    );
  }
  if ((values.cert === undefined) !== (values.key === undefined)) {
    throw new UsageError("Cannot use --cert without --key, or --key without --cert");
  }
  const tls: TlsOptions = {
    ...(values.cert === undefined ? {} : { cert: read("cert", values.cert) }),
    ...(values.key === undefined ? {} : { key: read("key", values.key) }),
    ...(values.ca === undefined ? {} : { ca: read("ca", values.ca) }),
    ...(values.insecure === true ? { insecure: true } : {}),
  };
  if (values.insecure === true) {
    log.note("socklab: --insecure: the server's TLS certificate is not verified");
  }
  return {
    tls,
    onThrowawayCertificate: (fingerprint) =>
      log.event(
        "certificate",
        { fingerprint },
        `throwaway self-signed certificate for localhost, SHA-256 fingerprint ${fingerprint}`,
      ),
    onHandshakeError: (err) => log.event("handshake-failed", { error: err.message }, err.message),
  };
}
