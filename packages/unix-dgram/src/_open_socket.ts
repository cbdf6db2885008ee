/**
 * Opening a socket, shared by {@linkcode openUnixDgram} and {@linkcode bindUnixDgram}.
 *
 * @module
 */
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bindSocketFile, invalidArgument, type SocketFile } from "@socklab/core";
import { toNative } from "./_address.ts";
import { DgramHandle } from "./_dgram_handle.ts";
import { checkUnixDgramPath } from "./check_unix_dgram_path.ts";
import { unixDgramSendLimit } from "./unix_dgram_limits.ts";
import { UnixDgramSocket, type UnixDgramSocketOptions } from "./unix_dgram_socket.ts";

const DEFAULT_SEND_TIMEOUT_MS = 5000;

/** Private temp dirs of open sockets, removed if the process exits without closing them. */
const dirsLeftAtExit = new Set<string>();
let exitHook = false;

/** Removes a private temp dir if the process exits while its socket is open (a second Ctrl-C). */
function removeDirAtExit(dir: string): () => void {
  dirsLeftAtExit.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const left of dirsLeftAtExit) rmSync(left, { recursive: true, force: true });
    });
  }
  return () => dirsLeftAtExit.delete(dir);
}
const AUTO_NAME = "client.sock";

function readOptions(options: OpenSocketOptions): {
  sendTimeoutMs: number;
  maxDatagramSize: number;
  mode: number;
  maxQueuedReplies: number;
} {
  const limit = unixDgramSendLimit();
  const sendTimeoutMs = options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  if (!Number.isInteger(sendTimeoutMs) || sendTimeoutMs < 1 || sendTimeoutMs > 2 ** 31 - 1) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_TIMEOUT",
      `Cannot use send timeout ${sendTimeoutMs}: expected whole milliseconds from 1 to ${2 ** 31 - 1}`,
    );
  }
  const maxDatagramSize = options.maxDatagramSize ?? limit;
  if (!Number.isInteger(maxDatagramSize) || maxDatagramSize < 0 || maxDatagramSize > limit) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_SIZE",
      `Cannot use datagram limit ${maxDatagramSize}: the kernel takes 0 to ${limit} bytes in one UNIX datagram`,
    );
  }
  const mode = options.mode ?? 0o600;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_MODE",
      `Cannot use file mode ${typeof mode === "number" ? `0o${mode.toString(8)}` : String(mode)}: expected 0o000 to 0o777`,
    );
  }
  const maxQueuedReplies = options.maxQueuedReplies ?? 64;
  if (!Number.isSafeInteger(maxQueuedReplies) || maxQueuedReplies < 0) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_OPTION",
      `Cannot use maxQueuedReplies ${String(maxQueuedReplies)}: expected a whole number, at least 0`,
    );
  }
  return { sendTimeoutMs, maxDatagramSize, mode, maxQueuedReplies };
}

/** What to open: {@linkcode openUnixDgram}'s options with `bind` split in two. */
export interface OpenSocketOptions extends UnixDgramSocketOptions {
  /** Bind a private temp path. */
  auto: boolean;
  /** Bind this path. */
  bindPath: string | undefined;
  mode?: number;
  connect?: string | undefined;
}

/**
 * Opens, binds, sets the mode of and connects a socket, undoing it all on failure.
 *
 * @param options What to do.
 * @returns The socket.
 */
export async function openSocket(options: OpenSocketOptions): Promise<UnixDgramSocket> {
  const { sendTimeoutMs, maxDatagramSize, mode, maxQueuedReplies } = readOptions(options);
  if (options.connect !== undefined) checkUnixDgramPath(options.connect);
  const auto = options.auto;
  if (options.bindPath !== undefined) checkUnixDgramPath(options.bindPath);

  let tempDir: string | undefined;
  let path = auto ? undefined : options.bindPath;
  let removedStale = false;
  if (auto) {
    tempDir = await mkdtemp(join(tmpdir(), "socklab-dgram-"));
    path = join(tempDir, AUTO_NAME);
  }
  let file: SocketFile | undefined;
  let forget: (() => void) | undefined;
  // Called with the socket still open (its file's inode cannot have been reused):
  // the file goes synchronously, before the socket closes.
  const cleanup = async (): Promise<void> => {
    file?.removeSync();
    forget?.();
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  };

  let handle: DgramHandle | undefined;
  try {
    if (tempDir !== undefined) forget = removeDirAtExit(tempDir);
    handle = new DgramHandle(sendTimeoutMs);
    const opened = handle;
    if (path?.startsWith("@")) {
      // An abstract name leaves no file: nothing to prepare, chmod or remove.
      checkUnixDgramPath(path);
      opened.bind(toNative(path));
    } else if (path !== undefined) {
      checkUnixDgramPath(path);
      const bindPath = path;
      // Core's lifecycle: stale file replaced, live or foreign path refused, file born with `mode`.
      const bound = await bindSocketFile(bindPath, mode, () => opened.bind(bindPath), {
        prepare: !auto,
      });
      file = bound.file;
      removedStale = bound.removedStale;
    }
    if (options.connect !== undefined) handle.connect(toNative(options.connect));
  } catch (err) {
    const cleaned = cleanup();
    handle?.close();
    await cleaned;
    throw err;
  }
  return new UnixDgramSocket(handle, {
    path,
    peer: options.connect,
    removedStale,
    maxDatagramSize,
    maxQueuedReplies,
    cleanup,
  });
}
