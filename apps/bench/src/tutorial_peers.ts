/**
 * The tutorial's own Python servers as benchmark peers, built from the listings
 * in `tutorial/` so they stay exactly as printed but for the port and a
 * readiness line.
 *
 * @module
 */
import { tutorialListing } from "@socklab/core/testing";

/**
 * Listing 3.2 (the web server) serving until stopped: the listing's body from
 * `accept()` to `con.close()` inside `while True:`, unchanged otherwise (it
 * still reads one `recv(4096)`, answers HTTP/1.0 without a length and closes).
 *
 * @returns Python source that binds 127.0.0.1 on a free port and prints `socklab-ready ('127.0.0.1', PORT)`.
 * @example
 * ```ts
 * import { loopedWebServer } from "./tutorial_peers.ts";
 * const source = loopedWebServer(); // python3 -u -c source
 * ```
 */
export function loopedWebServer(): string {
  const lines = tutorialListing("3.2 web server", {
    host: "127.0.0.1",
    port: 0,
    announce: true,
  }).split("\n");
  const first = lines.findIndex((line) => line.startsWith("con, addr = s.accept()"));
  const last = lines.findIndex((line) => line.startsWith("con.close()"));
  if (first < 0 || last < first) throw new Error("Listing 3.2 has no accept() … con.close() body");
  const body = lines.slice(first, last + 1).map((line) => (line === "" ? "" : `    ${line}`));
  return [...lines.slice(0, first), "while True:", ...body, ...lines.slice(last + 1)].join("\n");
}

/**
 * Listing 3.15 (the `select()` echo server) as printed, on a free port of 127.0.0.1.
 *
 * @returns Python source that prints `socklab-ready ('127.0.0.1', PORT)` once listening.
 * @example
 * ```ts
 * import { selectEchoServer } from "./tutorial_peers.ts";
 * const source = selectEchoServer();
 * ```
 */
export function selectEchoServer(): string {
  return tutorialListing("3.15 select server", { host: "127.0.0.1", port: 0, announce: true });
}
