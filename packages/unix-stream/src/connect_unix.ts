import { lstat } from "node:fs/promises";
import { connect, Socket } from "node:net";
import {
  checkUnixPath,
  invalidArgument,
  SocketError,
  type SocklabError,
  StreamConnection,
  TimeoutError,
  toSocketError,
  unixSocketPath,
} from "@socklab/core";
import { connectAbstractStream, netPadsAbstractNames } from "@socklab/native";

/** Options of {@linkcode connectUnix}. */
export interface ConnectUnixOptions {
  /** The socket file's path, or with `abstract` a Linux abstract name (without `@`). */
  path: string;
  /** Whether `path` is a Linux abstract name. */
  abstract?: boolean;
  /** Give up when the connection is not made within this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** Give up when this signal aborts; the promise rejects with its reason. */
  signal?: AbortSignal;
  /** Bytes read ahead before reading pauses (StreamConnection's `maxBuffered`, default 1 MiB). */
  maxBuffered?: number;
}

/** Node's largest timer delay; longer ones fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Connects to a UNIX stream socket, like the tutorial's listing 3.9. The
 * connection's `remote` is the path (or `@name`). Failures are one line that
 * says what is wrong with the path:
 * `Cannot connect to "/tmp/x": no such file or directory (is the server running?)`,
 * a stale socket file nobody listens on, permission denied, not a socket, or a
 * datagram socket where a stream socket was expected.
 *
 * An abstract name is reached exactly, as Python, socat and nc bind it, on every
 * Node: where Node's `net` pads abstract names with NULs (Node 20), socklab's
 * addon connects and `net` takes the descriptor over; if nobody listens on the
 * exact name, the padded one that Node 20 servers bind is tried next.
 *
 * @param options Path, timeout, abort signal.
 * @returns The connection: `recv`, `readUntil`, `readExactly`, `readToEnd`, iteration, `write`, `end`, `close`.
 * @throws {SocketError} With the system's `code` (`ENOENT`, `ECONNREFUSED`, `EACCES`,
 *   `EPROTOTYPE`, …; `ENOTSOCK` for a path that is not a socket).
 * @throws {TimeoutError} When `timeoutMs` passes first.
 * @throws {RangeError} `ERR_SOCKLAB_PATH_TOO_LONG` for a path over 107 bytes.
 * @example
 * ```ts
 * import { connectUnix } from "@socklab/unix-stream";
 * const conn = await connectUnix({ path: "/tmp/unixsocket_tcp" });
 * await conn.end("Hallo Welt!");
 * const reply = await conn.readToEnd();
 * await conn.close();
 * ```
 */
export function connectUnix(options: ConnectUnixOptions): Promise<StreamConnection> {
  const { path, timeoutMs, signal, maxBuffered } = options;
  const abstract = options.abstract ?? false;
  if (typeof path !== "string") {
    return Promise.reject(
      invalidArgument(
        "type",
        "ERR_SOCKLAB_INVALID_PATH",
        `Cannot connect to ${typeof path}: the path must be a string`,
      ),
    );
  }
  try {
    checkUnixPath(path, abstract);
  } catch (err) {
    return Promise.reject(err);
  }
  if (
    timeoutMs !== undefined &&
    !(typeof timeoutMs === "number" && timeoutMs >= 0 && timeoutMs <= MAX_TIMEOUT_MS)
  ) {
    return Promise.reject(
      invalidArgument(
        "range",
        "ERR_SOCKLAB_INVALID_TIMEOUT",
        `Cannot use timeout "${String(timeoutMs)}": it must be 0 to ${MAX_TIMEOUT_MS} milliseconds`,
      ),
    );
  }
  if (signal?.aborted) return Promise.reject(signal.reason);
  const label = abstract ? `@${path}` : path;

  return new Promise<StreamConnection>((resolve, reject) => {
    let exact: Socket | undefined;
    try {
      exact = abstract ? connectExactAbstract(path) : undefined;
    } catch (err) {
      connectError(err as Error, path, label, abstract).then(reject, reject);
      return;
    }
    if (exact !== undefined) {
      try {
        resolve(
          new StreamConnection(exact, {
            remote: label,
            ...(maxBuffered === undefined ? {} : { maxBuffered }),
          }),
        );
      } catch (err) {
        exact.destroy();
        reject(err);
      }
      return;
    }
    const socket = connect({ path: unixSocketPath({ path, abstract }), allowHalfOpen: true });
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      socket.off("connect", onConnect);
      socket.off("error", onError);
      signal?.removeEventListener("abort", onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
    const fail = (err: unknown): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onConnect = (): void => {
      cleanup();
      try {
        resolve(
          new StreamConnection(socket, {
            remote: label,
            ...(maxBuffered === undefined ? {} : { maxBuffered }),
          }),
        );
      } catch (err) {
        fail(err);
      }
    };
    const onError = (err: Error): void => {
      cleanup();
      socket.destroy();
      connectError(err, path, label, abstract).then(reject, reject);
    };
    const onAbort = (): void => fail(signal!.reason);
    socket.once("connect", onConnect);
    socket.once("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(
        () =>
          fail(
            new TimeoutError(
              `Cannot connect to "${label}": timed out after ${timeoutMs} ms`,
              timeoutMs,
            ),
          ),
        timeoutMs,
      );
    }
  });
}

/**
 * Where Node's `net` pads abstract names (Node 20), connects to the abstract
 * name `name` exactly through socklab's addon and wraps the descriptor in a
 * `net.Socket`. `undefined` tells the caller to use `net.connect`: on a Node
 * whose `net` is exact, when nobody listens on the exact name (a Node 20
 * server binds the padded one), or where the addon cannot load (no prebuilt
 * binary fits and none was compiled: the padded name is all `net` can reach).
 * Throws the connect error otherwise (`EAGAIN` for a full backlog, …).
 */
function connectExactAbstract(name: string): Socket | undefined {
  if (!netPadsAbstractNames()) return undefined;
  let fd: number;
  try {
    fd = connectAbstractStream(name);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === "ECONNREFUSED" || code === "ERR_SOCKLAB_UNSUPPORTED") return undefined;
    throw err;
  }
  return new Socket({ fd, readable: true, writable: true, allowHalfOpen: true });
}

/** What a path is, for a message: `"a regular file"`. */
async function describePath(path: string): Promise<string | undefined> {
  try {
    const stats = await lstat(path);
    if (stats.isSocket()) return "socket";
    if (stats.isFile()) return "a regular file";
    if (stats.isDirectory()) return "a directory";
    if (stats.isSymbolicLink()) return "a symbolic link";
    if (stats.isFIFO()) return "a named pipe";
    return "not a socket";
  } catch {
    return undefined;
  }
}

/**
 * Turns a failed connect into one line that says what is wrong with the path.
 * Linux answers `ECONNREFUSED` both for a socket file nobody listens on and for
 * a path that is no socket at all (a regular file, a directory); a look at the
 * path tells them apart.
 */
async function connectError(
  err: Error,
  path: string,
  label: string,
  abstract: boolean,
): Promise<SocklabError> {
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? "";
  const where = `Cannot connect to "${label}"`;
  const details = {
    code,
    cause: err,
    address: label,
    ...(e.errno === undefined ? {} : { errno: e.errno }),
    ...(e.syscall === undefined ? {} : { syscall: e.syscall }),
  };
  switch (code) {
    case "ENOENT":
      return new SocketError(
        `${where}: no such file or directory (is the server running?)`,
        details,
      );
    case "ECONNREFUSED":
    case "ENOTSOCK": {
      if (abstract) {
        return new SocketError(
          `${where}: connection refused (nobody listens on this abstract name)`,
          details,
        );
      }
      const kind = await describePath(path);
      if (kind === "socket" || kind === undefined) {
        return new SocketError(
          `${where}: connection refused; it is a stale socket file nobody listens on (is the server running?)`,
          details,
        );
      }
      return new SocketError(`${where}: it is ${kind}, not a socket (check the path)`, {
        ...details,
        code: "ENOTSOCK",
      });
    }
    case "EACCES":
      return new SocketError(
        `${where}: permission denied (connecting needs write permission on the socket file and search permission on its directories)`,
        details,
      );
    case "EPROTOTYPE":
      return new SocketError(
        `${where}: a datagram socket is bound there, not a stream socket (use a UNIX datagram client)`,
        details,
      );
    case "EAGAIN":
      return new SocketError(
        `${where}: the server's queue of waiting connections is full (try again)`,
        details,
      );
    default:
      return toSocketError(err, { action: "connect to", address: label });
  }
}
