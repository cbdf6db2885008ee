/**
 * Whether a socket file at a path is stale — left by a process that died
 * without removing it — and may be replaced, or is held by a live process and
 * must be refused. Every socklab server decides this here, before it binds.
 *
 * A socket file is stale only on evidence that no process holds it: Linux's
 * `/proc/net/unix` lists every bound UNIX socket with its path, listening or not
 * (a socket that was bound and is about to listen is live, though a connect to it
 * is refused). A socket missing from it (or where there is no such table) is
 * probed with a connect, for a listener in another network namespace sharing
 * the file system: only a refused connect then makes the file stale.
 *
 * @module
 */
import type { Stats } from "node:fs";
import { lstat, readdir, readFile, readlink, stat, unlink } from "node:fs/promises";
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
  /** A socket file no process holds, left by a process that did not clean up. */
  | { state: "stale" }
  /**
   * A socket a process holds: `listening` for a stream server, `false` for a
   * socket bound and not listening yet (or a datagram socket). `pid` when this
   * process may see who holds it.
   */
  | { state: "live"; type: "stream" | "datagram" | "unknown"; listening: boolean; pid?: number }
  /** Something else: never touched by socklab. */
  | { state: "not-socket"; kind: string };

/** A socket `/proc/net/unix` lists as bound to a path. */
interface BoundSocket {
  inode: string;
  type: "stream" | "datagram";
  listening: boolean;
}

/**
 * The sockets `/proc/net/unix` lists under `path` in this network namespace,
 * or `undefined` where there is no such table. Read without connecting: a probe
 * connection would be accepted by one-shot servers such as the tutorial's
 * listing 3.6, and end them.
 */
async function boundSockets(path: string): Promise<BoundSocket[] | undefined> {
  let table: string;
  try {
    table = await readFile("/proc/net/unix", "utf8");
  } catch {
    return undefined;
  }
  const wanted = new Set([path, resolve(path)]);
  const found: BoundSocket[] = [];
  for (const line of table.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 8) continue;
    if (!wanted.has(cols.slice(7).join(" "))) continue;
    const flags = Number.parseInt(cols[3]!, 16);
    const type = cols[4] === "0002" || cols[4] === "0005" ? "datagram" : "stream";
    // __SO_ACCEPTCON: the socket listens.
    found.push({ inode: cols[6]!, type, listening: (flags & 0x10000) !== 0 });
  }
  return found;
}

/** The pid of a process with one of these socket inodes open, where /proc lets us look. */
async function holderPid(inodes: readonly string[]): Promise<number | undefined> {
  const links = new Set(inodes.map((inode) => `socket:[${inode}]`));
  let pids: string[];
  try {
    pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      try {
        if (links.has(await readlink(`/proc/${pid}/fd/${fd}`))) return Number(pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** Connects once: the fallback where `/proc/net/unix` cannot be read. */
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

function describeKind(stats: Stats): string {
  if (stats.isFile()) return "a regular file";
  if (stats.isDirectory()) return "a directory";
  if (stats.isSymbolicLink()) return "a symbolic link";
  if (stats.isFIFO()) return "a named pipe";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "not a socket";
}

/**
 * Finds out what is at a UNIX socket path: nothing, a stale socket file, a
 * socket a process holds (listening or only bound), or something that is not a
 * socket. Stale needs evidence: no socket in `/proc/net/unix` bound to the path,
 * and a refused connect.
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
  let stats: Stats;
  try {
    stats = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { state: "free" };
    throw toSocketError(err, { action: "inspect", address: path });
  }
  if (!stats.isSocket()) return { state: "not-socket", kind: describeKind(stats) };
  const bound = await boundSockets(path);
  if (bound !== undefined && bound.length > 0) {
    const pid = await holderPid(bound.map((b) => b.inode));
    const listening = bound.some((b) => b.listening);
    const type = bound.some((b) => b.type === "datagram") && !listening ? "datagram" : "stream";
    return { state: "live", type, listening, ...(pid === undefined ? {} : { pid }) };
  }
  // Not in this network namespace's table (or no table): a process in another namespace
  // sharing the file system may still listen on it, which only a connect can tell.
  const answer = await probe(path);
  if (answer === "missing") return { state: "free" };
  if (answer === "stale") return { state: "stale" };
  return {
    state: "live",
    type: answer === "datagram" ? "datagram" : "unknown",
    listening: answer === "live",
  };
}

/** Says who holds a live socket, for the refusal. */
function describeLive(found: Extract<UnixPathState, { state: "live" }>): string {
  const who = found.pid === undefined ? "a process of another user" : `pid ${found.pid}`;
  if (found.type === "datagram")
    return `a live socket is there (held by ${who}, a datagram socket)`;
  if (found.listening) return `a live socket is there (held by ${who}, listening)`;
  return `a live socket is there (held by ${who}, bound and not listening yet: not stale while a process holds it)`;
}

/** What {@linkcode prepareUnixPath} did. */
export interface PreparedUnixPath {
  /** Whether a stale socket file was removed. */
  removedStale: boolean;
}

/**
 * Makes a UNIX socket path ready for bind, better than the tutorial's listings 3.7/3.8:
 * nothing there is fine; a stale socket file is removed; a socket a process
 * holds is refused (never stolen), naming the process; anything that is not a
 * socket is refused and never deleted. Abstract names only get the length check.
 *
 * @param address The address to bind.
 * @returns Whether a stale file was removed.
 * @throws {AddressInUseError} when a live process holds the path:
 *   `Cannot bind "/tmp/x.sock": a live socket is there (held by pid 123, listening)`.
 * @throws {NotASocketError} when the path is a file, directory or anything but a socket.
 * @throws {RangeError} `ERR_SOCKLAB_PATH_TOO_LONG` for a path the kernel cannot take.
 * @example
 * ```ts
 * import { prepareUnixPath } from "@socklab/core";
 * await prepareUnixPath({ path: "/tmp/unixsocket_tcp", abstract: false });
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
      throw new AddressInUseError(`Cannot bind "${address.path}": ${describeLive(found)}`, {
        address: address.path,
      });
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
