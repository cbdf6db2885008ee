/**
 * One lifecycle for every server socket socklab binds — TCP and UNIX stream
 * listeners (`listenTcp`, `listenUnix`, the multiplexer, the lab) and UNIX
 * datagram sockets: plan and bind, create socket files under a tightened umask,
 * identify the file created, refuse live or foreign paths (see
 * `stale_socket_file.ts`), and remove only our own file on close and at exit
 * (`socket_file.ts`).
 *
 * Every stream listener binds through {@linkcode listenStream}; abstract names
 * bind through one seam in it ({@linkcode setAbstractStreamBinder}).
 *
 * @module
 */
import type { Server } from "node:net";
import { formatHostPort } from "./format_address.ts";
import { adoptSocketFile, type SocketFile, withStrictUmask } from "./socket_file.ts";
import { prepareUnixPath } from "./stale_socket_file.ts";
import { toSocketError } from "./system_error.ts";

/** Where a stream listener listens: an IP address and port, or a UNIX path or abstract name. */
export type StreamTarget =
  | {
      /** A literal address (from `planListen`). */
      host: string;
      /** 0: the system picks. */
      port: number;
      ipv6Only?: boolean;
      backlog?: number;
    }
  | {
      /** A file system path, or with `abstract` a Linux abstract name (without `@`). */
      path: string;
      abstract?: boolean;
      /** The socket file's mode (default `0o600`), from birth. */
      mode?: number;
      backlog?: number;
    };

/** A listening stream socket from {@linkcode listenStream}. */
export interface StreamListener {
  /** The Node server, listening. */
  server: Server;
  /** The address as users read it: `127.0.0.1:50000` (the real port), `/tmp/s.sock`, `@name`. */
  label: string;
  /** The socket file we created, or `undefined` (TCP, abstract names). */
  file: SocketFile | undefined;
  /** Whether a stale socket file was removed before bind. */
  removedStale: boolean;
  /**
   * Stops listening (open connections stay) and removes the socket file if it is
   * still ours. Calling it again returns the same promise.
   *
   * @returns Whether our socket file was removed.
   */
  stop(): Promise<boolean>;
}

/**
 * Binds a Linux abstract stream socket and returns its listening descriptor,
 * or `undefined` when Node's own `listen({ path: "\0name" })` is exact already.
 * On Node 20, `net` pads abstract names to 108 bytes; a native binder binds the
 * exact name.
 */
export type AbstractStreamBinder = (name: string, backlog: number) => number | undefined;

let abstractBinder: AbstractStreamBinder | undefined;

/**
 * Plugs in how abstract stream names are bound (the seam for `@socklab/native`'s
 * `listenAbstractStream`); `undefined` goes back to Node's own `listen({ path: "\0name" })`.
 *
 * @param binder Binds and listens, returning the descriptor.
 * @example
 * ```ts
 * import { setAbstractStreamBinder } from "@socklab/core";
 * setAbstractStreamBinder(undefined);
 * ```
 */
export function setAbstractStreamBinder(binder: AbstractStreamBinder | undefined): void {
  abstractBinder = binder;
}

/** Starts `server.listen` for an abstract name: the one place abstract stream names bind. */
function listenAbstract(server: Server, name: string, backlog: number | undefined): void {
  const fd = abstractBinder?.(name, backlog ?? 511);
  if (fd === undefined) {
    server.listen({ path: `\0${name}`, ...(backlog === undefined ? {} : { backlog }) });
  } else {
    // Node takes a descriptor's backlog from the second argument only (inside the
    // options it is ignored, and the socket would be listened again with 511).
    server.listen({ fd }, backlog ?? 511);
  }
}

/**
 * The one way a socklab stream listener binds. Attach the server's
 * `connection` listener before calling it: a client may connect the moment the
 * socket listens, before this function returns (and would otherwise be accepted
 * and never served).
 *
 * For a path: a stale socket file is removed first, a live socket or anything
 * that is not a socket refused; the file is born with `mode` (umask tightened
 * for the bind), identified, removed at exit if nobody stops the listener, and
 * removed by `stop()` only while it is still ours.
 *
 * @param server A Node server with no address yet.
 * @param target Where to listen.
 * @returns The listener.
 * @throws {SocketError} One line: `Cannot bind "127.0.0.1:50000": address already in use`.
 * @throws {AddressInUseError} When a live process holds the UNIX path.
 * @throws {NotASocketError} When the path is a file, directory or anything but a socket.
 * @example
 * ```ts
 * import { listenStream } from "@socklab/core";
 * import { Server } from "node:net";
 * const server = new Server((socket) => socket.end("hi\n"));
 * const listener = await listenStream(server, { path: "/tmp/hi.sock" });
 * await listener.stop();
 * ```
 */
export async function listenStream(server: Server, target: StreamTarget): Promise<StreamListener> {
  const backlog = target.backlog;
  let label: string;
  let removedStale = false;
  const mode = "path" in target ? (target.mode ?? 0o600) : 0;
  if ("path" in target) {
    removedStale = (await prepareUnixPath({ path: target.path, abstract: !!target.abstract }))
      .removedStale;
  }
  const listening = new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off("listening", onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
  });
  try {
    if ("path" in target) {
      label = target.abstract ? `@${target.path}` : target.path;
      if (target.abstract) listenAbstract(server, target.path, backlog);
      else
        withStrictUmask(mode, () =>
          server.listen({ path: target.path, ...(backlog === undefined ? {} : { backlog }) }),
        );
    } else {
      label = formatHostPort(target.host, target.port);
      server.listen({
        host: target.host,
        port: target.port,
        ...(target.ipv6Only === undefined ? {} : { ipv6Only: target.ipv6Only }),
        ...(backlog === undefined ? {} : { backlog }),
      });
    }
    await listening;
  } catch (err) {
    listening.catch(() => {});
    if (server.listening) server.close();
    throw toSocketError(
      err,
      "path" in target
        ? { action: "bind", address: `${target.abstract ? "@" : ""}${target.path}` }
        : {
            action: "bind",
            address: formatHostPort(target.host, target.port),
            port: target.port,
          },
    );
  }
  let file: SocketFile | undefined;
  if ("path" in target && !target.abstract) {
    try {
      file = await adoptSocketFile(target.path, mode);
    } catch (err) {
      server.close();
      throw err;
    }
  } else if ("port" in target) {
    const info = server.address();
    if (info !== null && typeof info === "object") label = formatHostPort(info.address, info.port);
  }
  let stopped: Promise<boolean> | undefined;
  return {
    server,
    label,
    file,
    removedStale,
    stop() {
      if (stopped === undefined) {
        if (file !== undefined) stopped = file.closeServer(server);
        else {
          if (server.listening) server.close();
          stopped = Promise.resolve(false);
        }
      }
      return stopped;
    },
  };
}

/** A bound datagram socket file from {@linkcode bindSocketFile}. */
export interface BoundSocketFile {
  /** The file, removed only while still ours. */
  file: SocketFile;
  /** Whether a stale socket file was removed before bind. */
  removedStale: boolean;
}

/**
 * The datagram half of the lifecycle: prepares the path (stale removed, live
 * and foreign refused), binds with the umask tightened to `mode`, and takes
 * charge of the file created.
 *
 * @param path The socket path.
 * @param mode The file's mode.
 * @param bind Binds synchronously (the addon's `bind`); throws a socklab error on failure.
 * @param options `prepare: false` for a path in a private directory of our own.
 * @returns The file and whether a stale one was removed.
 * @example
 * ```ts
 * import { bindSocketFile } from "@socklab/core";
 * const { file } = await bindSocketFile("/tmp/d.sock", 0o600, () => handle.bind("/tmp/d.sock"));
 * ```
 */
export async function bindSocketFile(
  path: string,
  mode: number,
  bind: () => void,
  options: { prepare?: boolean } = {},
): Promise<BoundSocketFile> {
  const removedStale =
    options.prepare === false
      ? false
      : (await prepareUnixPath({ path, abstract: false })).removedStale;
  withStrictUmask(mode, bind);
  return { file: await adoptSocketFile(path, mode), removedStale };
}
