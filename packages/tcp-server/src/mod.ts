/**
 * A TCP server for the tutorial's section 3.1: listen on a host and port (IPv4,
 * IPv6, both for `localhost`, all interfaces, port 0), one handler per
 * connection that knows its peer, a connection limit, idle timeout and graceful
 * close — and the tutorial's web answer, "Hallo Welt!", as a hardened,
 * keep-alive HTTP/1.1 handler ({@linkcode helloWeb}).
 *
 * @example
 * ```ts
 * import { helloWeb, listenTcp } from "@socklab/tcp-server";
 *
 * const web = helloWeb();
 * const server = await listenTcp({ host: "localhost", port: 50000, handler: web, onRefused: web.onRefused });
 * console.log(server.addresses); // ["tcp://[::1]:50000", "tcp://127.0.0.1:50000"]
 * // curl localhost:50000 → <h1>Hallo Welt!</h1>
 * await server.close({ graceMs: 2000 });
 * ```
 *
 * @module
 */
export {
  HELLO_HTML,
  type HelloWebHandler,
  type HelloWebOptions,
  type HelloWebRequest,
  helloWeb,
} from "./hello_web.ts";
export { type ListenTcpOptions, listenTcp, TcpServer } from "./listen_tcp.ts";
