import { lstat, readFile, stat, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { dirname, resolve } from "node:path";
import type { UnixAddress } from "./address.ts";
import { AddressInUseError, NotASocketError } from "./errors.ts";
import { toSocketError } from "./system_error.ts";
import { checkUnixPath } from "./unix_path_limit.ts";

/** What is at a UNIX socket path. */
export type UnixPathState =
  /** Nothing: bind will create the socket file. */
  | { state: "free" }
  /** A socket file nobody listens on, left by a process that did not clean up. */
  | { state: "stale" }
  /** A socket a running program listens on (or is bound to, for datagrams). */
  | { state: "live"; type: "stream" | "datagram" | "unknown" }
  /** Something else: never touched by socklab. */
  | { state: "not-socket"; kind: string };

/**
 * The string Node's `net` module takes for a UNIX address: the path, or for an
 * abstract name the name behind a NUL byte.
 *
 * @param address A UNIX address.
 * @returns The path to pass to `listen()` / `connect()`.
 * @example
 * ```ts
 * import { unixSocketPath } from "@socklab/core";
 * unixSocketPath({ transport: "unix", path: "name", abstract: true }); // "\0name"
 * ```
 */
export function unixSocketPath(address: Pick<UnixAddress, "path" | "abstract">): string {
  return address.abstract ? `\0${address.path}` : address.path;
}

/**
 * Reads `/proc/net/unix` for a socket bound to `path` in this network namespace,
 * without connecting to it (a probe connection would be accepted by one-shot
 * servers such as the tutorial's listing 3.6, and end them).
 */
async function boundSocketType(path: string): Promise<"stream" | "datagram" | "none" | "unknown"> {
  let table: string;
  try {
    table = await readFile("/proc/net/unix", "utf8");
  } catch {
    return "unknown";
  }
  const wanted = new Set([path, resolve(path)]);
  let sawStream = false;
  for (const line of table.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 8) continue;
    const name = cols.slice(7).join(" ");
    if (!wanted.has(name)) continue;
    const flags = Number.parseInt(cols[3]!, 16);
    const type = cols[4];
    if (type === "0002" || type === "0005") return "datagram";
    if ((flags & 0x10000) !== 0) return "stream"; // __SO_ACCEPTCON: listening
    sawStream = true;
  }
  return sawStream ? "unknown" : "none";
}

/** Connects once to learn whether anyone accepts on `path`: true, false, or "other type". */
function probe(path: string): Promise<"live" | "stale" | "datagram" | "missing"> {
  return new Promise((done) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      done("live");
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      socket.destroy();
      if (err.code === "EPROTOTYPE") done("datagram");
      else if (err.code === "ENOENT") done("missing");
      else if (err.code === "ECONNREFUSED") done("stale");
      else done("live"); // EACCES, EAGAIN (full backlog): someone is there; never delete it
    });
  });
}

function describeKind(stats: import("node:fs").Stats): string {
  if (stats.isFile()) return "a regular file";
  if (stats.isDirectory()) return "a directory";
  if (stats.isSymbolicLink()) return "a symbolic link";
  if (stats.isFIFO()) return "a named pipe";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "not a socket";
}

/**
 * Finds out what is at a UNIX socket path: nothing, a stale socket file, a live
 * socket, or something that is not a socket. Live sockets are first looked up in
 * `/proc/net/unix`; only a socket missing there is probed with a connect.
 *
 * @param path A file system path.
 * @returns Its state.
 * @example
 * ```ts
 * import { inspectUnixPath } from "@socklab/core";
 * await inspectUnixPath("/tmp/no-such-socket"); // { state: "free" }
 * ```
 */
export async function inspectUnixPath(path: string): Promise<UnixPathState> {
  let stats: import("node:fs").Stats;
  try {
    stats = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { state: "free" };
    throw toSocketError(err, { action: "inspect", address: path });
  }
  if (!stats.isSocket()) return { state: "not-socket", kind: describeKind(stats) };
  const bound = await boundSocketType(path);
  if (bound === "stream" || bound === "datagram") return { state: "live", type: bound };
  const answer = await probe(path);
  if (answer === "missing") return { state: "free" };
  if (answer === "stale") return { state: "stale" };
  return {
    state: "live",
    type: answer === "datagram" ? "datagram" : bound === "none" ? "unknown" : "stream",
  };
}

/** What {@linkcode prepareUnixPath} did. */
export interface PreparedUnixPath {
  /** Whether a stale socket file was removed. */
  removedStale: boolean;
}

/**
 * Makes a UNIX socket path ready for bind, better than the tutorial's listings 3.7/3.8:
 * nothing there is fine; a stale socket file is removed; a socket a live program
 * listens on is refused (never stolen); anything that is not a socket is refused
 * and never deleted. Abstract names only get the length check.
 *
 * @param address The address to bind.
 * @returns Whether a stale file was removed.
 * @throws {AddressInUseError} when a live program uses the path.
 * @throws {NotASocketError} when the path is a file, directory or anything but a socket.
 * @throws {RangeError} `ERR_SOCKLAB_PATH_TOO_LONG` for a path the kernel cannot take.
 * @example
 * ```ts
 * import { prepareUnixPath } from "@socklab/core";
 * await prepareUnixPath({ transport: "unix", path: "/tmp/unixsocket_tcp", abstract: false });
 * ```
 */
export async function prepareUnixPath(
  address: Pick<UnixAddress, "path" | "abstract">,
): Promise<PreparedUnixPath> {
  checkUnixPath(address.path, address.abstract);
  if (address.abstract) return { removedStale: false };
  // libuv reports a missing directory as EACCES on bind: say what is really wrong first.
  try {
    const dir = await stat(dirname(resolve(address.path)));
    if (!dir.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
  } catch (err) {
    throw toSocketError(err, { action: "bind", address: address.path });
  }
  const found = await inspectUnixPath(address.path);
  switch (found.state) {
    case "free":
      return { removedStale: false };
    case "not-socket":
      throw new NotASocketError(address.path, found.kind);
    case "live":
      throw new AddressInUseError(
        `Cannot bind "${address.path}": address already in use (a running program listens on it)`,
        {
          address: address.path,
        },
      );
    case "stale":
      try {
        await unlink(address.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
          throw toSocketError(err, { action: "remove stale socket", address: address.path });
        }
      }
      return { removedStale: true };
  }
}

/** The identity of a socket file, to remove only the file we created. */
export interface SocketFileIdentity {
  path: string;
  dev: bigint;
  ino: bigint;
  /** Inode numbers are reused at once on some file systems; the change time tells files apart. */
  ctimeNs: bigint;
}

/**
 * Records which file a freshly bound socket created, for {@linkcode removeSocketFile}.
 * Call it after setting the file's mode (a chmod changes the identity).
 *
 * @param path The bound path.
 * @returns Its identity, or `undefined` when there is no file (abstract names).
 * @example
 * ```ts
 * import { socketFileIdentity } from "@socklab/core";
 * const id = await socketFileIdentity("/tmp/unixsocket_tcp");
 * ```
 */
export async function socketFileIdentity(path: string): Promise<SocketFileIdentity | undefined> {
  try {
    const stats = await lstat(path, { bigint: true });
    return stats.isSocket()
      ? { path, dev: stats.dev, ino: stats.ino, ctimeNs: stats.ctimeNs }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes a socket file on close, but only while it is still the socket we
 * created: a file another server has since put at the path is left alone.
 *
 * @param identity What {@linkcode socketFileIdentity} recorded.
 * @returns Whether the file was removed.
 * @example
 * ```ts
 * import { removeSocketFile, socketFileIdentity } from "@socklab/core";
 * const id = await socketFileIdentity("/tmp/unixsocket_tcp");
 * if (id) await removeSocketFile(id);
 * ```
 */
export async function removeSocketFile(identity: SocketFileIdentity): Promise<boolean> {
  try {
    const stats = await lstat(identity.path, { bigint: true });
    const same =
      stats.ino === identity.ino &&
      stats.dev === identity.dev &&
      stats.ctimeNs === identity.ctimeNs;
    if (!stats.isSocket() || !same) return false;
    await unlink(identity.path);
    return true;
  } catch {
    return false;
  }
}
