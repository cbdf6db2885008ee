/**
 * The socket file's life: its mode from the first moment, and its removal on
 * close only while it is still ours.
 *
 * Two facts of Node shape this file:
 * - `net.Server#listen(path)` binds synchronously inside the call, so a umask set
 *   just before it and restored just after it decides the mode the file is born with.
 * - libuv unlinks a bound path by name when the server closes, whatever file is
 *   there by then; a file another program put at the path would be lost. We hard-link
 *   such a file aside before closing and link it back afterwards.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { link, lstat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isMainThread } from "node:worker_threads";
import { removeSocketFile, type SocketFileIdentity } from "@socklab/core";

/**
 * Runs `bind` (which must bind synchronously) with a umask that keeps every bit
 * `mode` lacks, so the socket file never has more permission than asked for,
 * not even between bind and chmod. The umask is process-wide: it is only ever
 * made stricter (old umask | ~mode), for the few microseconds of the call, so
 * files other threads create meanwhile never get more permission than usual.
 * Worker threads cannot set the umask (Node refuses); there the file has the
 * process umask's mode until the caller's chmod.
 *
 * @param mode The mode the socket file should end up with.
 * @param bind Starts listening; called once, synchronously.
 * @returns What `bind` returned.
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

/**
 * Whether the file at `identity.path` is still the socket we bound. While our
 * server listens, its socket pins the file's inode, so the inode number cannot
 * have been reused: device and inode are proof enough, and a chmod or hard link
 * by someone else (which changes the ctime) does not make our file look foreign.
 */
async function isOurs(identity: SocketFileIdentity): Promise<boolean | "missing"> {
  try {
    const stats = await lstat(identity.path, { bigint: true });
    return stats.isSocket() && stats.dev === identity.dev && stats.ino === identity.ino;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    return false;
  }
}

/**
 * Closes a listening server bound to a socket file and removes the file only
 * if it is still ours. A foreign file at the path (our file was deleted and
 * another program bound the path, or someone put a regular file there) is
 * hard-linked aside before libuv's unconditional unlink and linked back right
 * after it; for that moment the path does not exist.
 *
 * @param identity The file we created.
 * @param close Closes the server (libuv unlinks the path synchronously at its start).
 * @returns Whether our socket file was removed.
 */
export async function closeSocketFile(
  identity: SocketFileIdentity,
  close: () => Promise<void>,
): Promise<boolean> {
  const ours = await isOurs(identity);
  if (ours === true) {
    await close();
    // Should libuv stop unlinking one day, remove it ourselves (checking the ctime
    // too: once closed, the inode is no longer pinned).
    if ((await isOurs(identity)) === true) return removeSocketFile(identity);
    return true;
  }
  if (ours === "missing") {
    await close();
    return false;
  }
  const path = identity.path;
  const keep = join(
    dirname(path),
    `.${basename(path)}.socklab-keep-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  let kept = false;
  try {
    await link(path, keep);
    kept = true;
  } catch {
    // A directory, or no right to link it: then libuv cannot unlink it either (EISDIR,
    // EPERM); a same-owner file is linkable. Nothing better to do.
  }
  try {
    await close();
  } finally {
    if (kept) {
      try {
        await link(keep, path);
      } catch {
        // EEXIST: something newer is at the path already; leave it.
      }
      await unlink(keep).catch(() => {});
    }
  }
  return false;
}
