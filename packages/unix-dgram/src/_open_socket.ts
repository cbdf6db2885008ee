/**
 * Opening a socket, shared by {@linkcode openUnixDgram} and {@linkcode bindUnixDgram}.
 *
 * @module
 */
import { lstatSync, rmSync, unlinkSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  invalidArgument,
  prepareUnixPath,
  removeSocketFile,
  type SocketFileIdentity,
  socketFileIdentity,
  toSocketError,
} from "@socklab/core";
import { toNative } from "./_address.ts";
import { DgramHandle } from "./_dgram_handle.ts";
import { checkUnixDgramPath } from "./check_unix_dgram_path.ts";
import { unixDgramSendLimit } from "./unix_dgram_limits.ts";
import { UnixDgramSocket, type UnixDgramSocketOptions } from "./unix_dgram_socket.ts";

const DEFAULT_SEND_TIMEOUT_MS = 5000;

/** What open sockets would leave behind if the process exits without closing them. */
const leftAtExit = new Set<() => void>();
let exitHook = false;

/**
 * Removes a socket's file (and private dir) if the process exits while it is
 * open, as after a second Ctrl-C: `exit` handlers must work synchronously.
 */
function removeAtExit(
  identity: SocketFileIdentity | undefined,
  tempDir: string | undefined,
): () => void {
  const remove = (): void => {
    try {
      if (identity !== undefined) {
        const stats = lstatSync(identity.path, { bigint: true });
        const same =
          stats.isSocket() &&
          stats.ino === identity.ino &&
          stats.dev === identity.dev &&
          stats.ctimeNs === identity.ctimeNs;
        if (same) unlinkSync(identity.path);
      }
    } catch {
      // Already gone.
    }
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  };
  leftAtExit.add(remove);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const left of leftAtExit) left();
    });
  }
  return () => leftAtExit.delete(remove);
}
const AUTO_NAME = "client.sock";

function readOptions(options: OpenSocketOptions): {
  sendTimeoutMs: number;
  maxDatagramSize: number;
  mode: number;
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
  return { sendTimeoutMs, maxDatagramSize, mode };
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
  const { sendTimeoutMs, maxDatagramSize, mode } = readOptions(options);
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
  let identity: SocketFileIdentity | undefined;
  let forget: (() => void) | undefined;
  const cleanup = async (): Promise<void> => {
    forget?.();
    if (identity !== undefined) await removeSocketFile(identity);
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  };

  let handle: DgramHandle | undefined;
  try {
    const abstract = path?.startsWith("@") === true;
    if (path !== undefined) {
      checkUnixDgramPath(path);
      if (!auto && !abstract)
        removedStale = (await prepareUnixPath({ path, abstract: false })).removedStale;
    }
    handle = new DgramHandle(sendTimeoutMs);
    if (path !== undefined && abstract) {
      // An abstract name leaves no file: nothing to prepare, chmod or remove.
      handle.bind(toNative(path));
    } else if (path !== undefined) {
      handle.bind(path);
      // Remember the file at once, so a failing chmod still removes it.
      identity = await socketFileIdentity(path);
      try {
        await chmod(path, mode);
      } catch (err) {
        throw toSocketError(err, { action: "set the mode of", address: path });
      }
      identity = await socketFileIdentity(path);
    }
    if (options.connect !== undefined) handle.connect(toNative(options.connect));
    if (identity !== undefined || tempDir !== undefined) forget = removeAtExit(identity, tempDir);
  } catch (err) {
    handle?.close();
    await cleanup();
    throw err;
  }
  return new UnixDgramSocket(handle, {
    path,
    peer: options.connect,
    removedStale,
    maxDatagramSize,
    cleanup,
  });
}
