import { X509Certificate } from "node:crypto";
import { generate } from "selfsigned";

/** A certificate and its private key, in PEM, with the certificate's SHA-256 fingerprint. */
export interface Certificate {
  /** The certificate, PEM. */
  readonly cert: string;
  /** The private key, PEM (PKCS #8). */
  readonly key: string;
  /** SHA-256 of the certificate's DER, as `AB:CD:…` (what `openssl x509 -fingerprint -sha256` prints). */
  readonly fingerprint: string;
}

/**
 * Makes a throwaway self-signed certificate for a TLS listener that was given
 * none, as ncat does: an ECDSA P-256 key, valid from an hour ago for 30 days,
 * for `localhost`, `127.0.0.1` and `::1` (CN and SAN). Clients verify it only
 * with `--insecure` or by its fingerprint.
 *
 * @returns The certificate, its key and its SHA-256 fingerprint.
 * @example
 * ```ts
 * import { throwawayCertificate } from "@socklab/relay";
 * const { cert, key, fingerprint } = await throwawayCertificate();
 * ```
 */
export async function throwawayCertificate(): Promise<Certificate> {
  const notBeforeDate = new Date(Date.now() - 3_600_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 30 * 86_400_000);
  const pems = await generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  return {
    cert: pems.cert,
    key: pems.private,
    fingerprint: new X509Certificate(pems.cert).fingerprint256,
  };
}
