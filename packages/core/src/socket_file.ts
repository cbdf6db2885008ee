/**
 * A socket file's life, from birth to removal: created under a umask that
 * never lets it be wider than its mode, identified by device and inode, and
 * removed — on close or at process exit — only while it is still the socket
 * this process created. A file someone else has put at the path is never removed.
 *
 * Two facts of Node shape this file:
 * - `net.Server#listen(path)` and the datagram addon's `bind` bind synchronously
 *   inside the call, so a umask set just before and restored just after decides
 *   the mode the file is born with.
 * - libuv unlinks a listening pipe's path by name when the server closes, whatever
 *   file is there by then; {@linkcode SocketFile.closeServer} hard-links a foreign
 *   file aside for that moment and links it back.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { lstatSync, unlinkSync } from "node:fs";
import { chmod, link, lstat, unlink } from "node:fs/promises";
import type { Server } from "node:net";
import { basename, dirname, join, resolve } from "node:path";
import { isMainThread } from "node:worker_threads";
import { toSocketError } from "./system_error.ts";

/** The identity of a socket file, to remove only the file we created. */
export interface SocketFileIdentity {
  path: string;
  dev: bigint;
  ino: bigint;
}

/**
 * Runs `bind` (which must bind synchronously) with a umask that keeps every bit
 * `mode` lacks, so the socket file never has more permission than asked for,
 * not even between bind and chmod. The umask is process-wide: it is only ever
 * made stricter (old umask | ~mode), for the few microseconds of the call, so
 * files other code creates meanwhile never get more permission than usual.
 * Worker threads cannot set the umask (Node refuses); there the file has the
 * process umask's mode until the chmod of {@linkcode adoptSocketFile}.
 *
 * @param mode The mode the socket file should end up with.
 * @param bind Binds; called once, synchronously.
 * @returns What `bind` returned.
 * @example
 * ```ts
 * import { withStrictUmask } from "@socklab/core";
 * import { createServer } from "node:net";
 * const server = withStrictUmask(0o600, () => createServer().listen("/tmp/s.sock"));
 * ```
 */
export function withStrictUmask<T>(mode: number, bind: () => T): T {
  if (!isMainThread) return bind();
  // Reading the umask needs a set (the getter is deprecated): 0o777 first, so there
  // is no moment where it is looser than before.
  const previous = process.umask(0o777);
  process.umask(previous | (~mode & 0o777));
  try {
    return bind();
  } finally {
    process.umask(previous);
  }
}

/** What open socket files would leave behind if the process exits without closing them. */
const leftAtExit = new Set<SocketFile>();
let exitHook = false;

function removeLeftAtExit(): void {
  for (const file of leftAtExit) file.removeSync();
}

/**
 * A socket file this process created: removes itself only while it is still ours.
 * Made by {@linkcode adoptSocketFile} right after a successful bind.
 */
export class SocketFile {
  /** The path, as bound. */
  readonly path: string;
  /** The file's mode. */
  readonly mode: number;
  readonly #identity: SocketFileIdentity;
  #released = false;

  /** @internal Use {@linkcode adoptSocketFile}. */
  constructor(identity: SocketFileIdentity, mode: number) {
    this.path = identity.path;
    this.mode = mode;
    this.#identity = identity;
  }

  /** Device and inode of the file we created. */
  get identity(): Readonly<SocketFileIdentity> {
    return this.#identity;
  }

  /**
   * Whether the file at the path is still the socket we bound. While our socket
   * is open it pins the file's inode, so the number cannot have been reused:
   * device and inode are proof enough, and a chmod or hard link by someone else
   * does not make our file look foreign.
   *
   * @returns `true`, `false` (something else is there), or `"missing"`.
   */
  async isOurs(): Promise<boolean | "missing"> {
    try {
      const stats = await lstat(this.path, { bigint: true });
      return (
        stats.isSocket() && stats.dev === this.#identity.dev && stats.ino === this.#identity.ino
      );
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : false;
    }
  }

  /**
   * Removes the file if it is still ours (call it with the socket still open, or
   * just after closing it: afterwards the inode may be reused).
   *
   * @returns Whether our file was removed.
   */
  async remove(): Promise<boolean> {
    this.#forget();
    if ((await this.isOurs()) !== true) return false;
    try {
      await unlink(this.path);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The same as {@linkcode SocketFile.remove}, synchronously: for `exit` handlers.
   *
   * @returns Whether our file was removed.
   */
  removeSync(): boolean {
    this.#forget();
    try {
      const stats = lstatSync(this.path, { bigint: true });
      if (!stats.isSocket() || stats.dev !== this.#identity.dev || stats.ino !== this.#identity.ino)
        return false;
      unlinkSync(this.path);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Stops a Node server listening on this file, and removes the file only if it
   * is still ours. libuv unlinks the path by name the moment the server closes:
   * a foreign file there (ours was deleted and another program bound the path, or
   * someone put a regular file there) is hard-linked aside first and linked back
   * right after, so for that moment only the path does not exist. Connections
   * already open are left alone.
   *
   * @param server The server bound to this file.
   * @returns Whether our socket file was removed.
   */
  async closeServer(server: Server): Promise<boolean> {
    const ours = await this.isOurs();
    if (ours === true) {
      server.close();
      // Should libuv stop unlinking one day, remove it ourselves.
      if ((await this.isOurs()) === true) return this.remove();
      this.#forget();
      return true;
    }
    this.#forget();
    if (ours === "missing") {
      server.close();
      return false;
    }
    const keep = join(
      dirname(this.path),
      `.${basename(this.path)}.socklab-keep-${process.pid}-${randomBytes(4).toString("hex")}`,
    );
    let kept = false;
    try {
      await link(this.path, keep);
      kept = true;
    } catch {
      // A directory, or no right to link it: then libuv cannot unlink it either.
    }
    try {
      server.close();
    } finally {
      if (kept) {
        try {
          await link(keep, this.path);
        } catch {
          // EEXIST: something newer is at the path already; leave it.
        }
        await unlink(keep).catch(() => {});
      }
    }
    return false;
  }

  #forget(): void {
    if (this.#released) return;
    this.#released = true;
    leftAtExit.delete(this);
  }

  /** @internal Registers the file for removal at exit. */
  _removeAtExit(): void {
    leftAtExit.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on("exit", removeLeftAtExit);
    }
  }
}

/**
 * Takes charge of the socket file a bind just created: sets its mode (a no-op
 * after {@linkcode withStrictUmask}, except in worker threads), records device
 * and inode, and arranges its removal at process exit should nobody close it.
 *
 * @param path The bound path.
 * @param mode The file's mode.
 * @returns The file.
 * @throws {SocketError} When the file cannot be found or its mode not set.
 * @example
 * ```ts
 * import { adoptSocketFile, withStrictUmask } from "@socklab/core";
 * ```
 */
export async function adoptSocketFile(path: string, mode: number): Promise<SocketFile> {
  try {
    const stats = await lstat(path, { bigint: true });
    if (!stats.isSocket()) throw Object.assign(new Error("not a socket"), { code: "ENOENT" });
    const file = new SocketFile({ path, dev: stats.dev, ino: stats.ino }, mode);
    file._removeAtExit();
    if ((Number(stats.mode) & 0o777) !== mode) {
      try {
        await chmod(path, mode);
      } catch (err) {
        await file.remove();
        throw err;
      }
    }
    return file;
  } catch (err) {
    const octal = `0${mode.toString(8).padStart(3, "0")}`;
    throw toSocketError(err, { action: `set mode ${octal} on`, address: path });
  }
}

/**
 * Records which file a freshly bound socket created.
 *
 * @param path The bound path.
 * @returns Its identity, or `undefined` when there is no socket file.
 * @example
 * ```ts
 * import { socketFileIdentity } from "@socklab/core";
 * const id = await socketFileIdentity("/tmp/unixsocket_tcp");
 * ```
 */
export async function socketFileIdentity(path: string): Promise<SocketFileIdentity | undefined> {
  try {
    const stats = await lstat(path, { bigint: true });
    return stats.isSocket() ? { path: resolve(path), dev: stats.dev, ino: stats.ino } : undefined;
  } catch {
    return undefined;
  }
}
