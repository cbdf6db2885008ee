import { isIpAddress, type SocketAddress } from "./address.ts";

/** Characters a UNIX path keeps as they are in URI form; everything else is percent-encoded. */
const PATH_SAFE = /[A-Za-z0-9\-._~/!$&'()*+,;=:@]/;

function encodePath(path: string): string {
  let out = "";
  for (const ch of path) {
    out += PATH_SAFE.test(ch)
      ? ch
      : encodeURIComponent(ch).replace(
          /[!'()*]/g,
          (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
        );
  }
  return out;
}

/**
 * Writes an address in its URI form; {@linkcode parseAddress} reads it back unchanged.
 *
 * @param address The address.
 * @returns `tcp://127.0.0.1:50000`, `udp://[::1]:53`, `unix:///tmp/s`, `unix:@name`, …
 * @example
 * ```ts
 * import { formatAddress } from "@socklab/core";
 * formatAddress({ transport: "udp", host: "::1", port: 53 }); // "udp://[::1]:53"
 * ```
 */
export function formatAddress(address: SocketAddress): string {
  if (isIpAddress(address)) {
    return `${address.transport}://${formatHostPort(address.host, address.port)}`;
  }
  if (address.abstract) return `${address.transport}:@${encodePath(address.path)}`;
  const path = encodePath(address.path);
  return path.startsWith("/") ? `${address.transport}://${path}` : `${address.transport}:${path}`;
}

/**
 * Writes a host and port as people read them: `127.0.0.1:50000`, `[::1]:50000`,
 * `[fe80::1%25eth0]:80`, `:50000` for all interfaces.
 *
 * @param host The host (IPv6 without brackets).
 * @param port The port.
 * @returns `host:port`, with brackets around IPv6.
 * @example
 * ```ts
 * import { formatHostPort } from "@socklab/core";
 * formatHostPort("::1", 50000); // "[::1]:50000"
 * ```
 */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host.replace("%", "%25")}]:${port}` : `${host}:${port}`;
}
