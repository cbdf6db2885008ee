/**
 * Loads `socklab_native.node` once, through `node-gyp-build`: a binary built
 * at install (`build/Release`, only where no prebuilt one fits) or the
 * prebuilt one for this platform (`prebuilds/linux-x64`, `prebuilds/linux-arm64`,
 * glibc). Loading is lazy, so importing a socklab package never needs the
 * addon; only the first call of a function that uses it does.
 *
 * @module
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { SocklabError } from "@socklab/core";
import type { UnixDgramBinding } from "./unix_dgram_binding.ts";

/** A failed call of `streamListen` or `streamConnect`: the descriptor is closed. */
export interface StreamFailure {
  /** Negative errno. */
  errno: number;
  /** The system call that failed. */
  syscall: "socket" | "bind" | "listen" | "connect";
}

/** Everything `socklab_native.node` exports. */
export interface Addon extends UnixDgramBinding {
  /**
   * A listening AF_UNIX stream socket bound to exactly `address` (the bytes of
   * `sun_path`, as many as the address has): non-blocking, close-on-exec.
   */
  streamListen(address: Uint8Array, backlog: number): number | StreamFailure;
  /** An AF_UNIX stream socket connected to exactly `address`: non-blocking, close-on-exec. */
  streamConnect(address: Uint8Array): number | StreamFailure;
}

/** The package's root folder: `prebuilds/`, `build/` and `binding.gyp` are there. */
export const PACKAGE_ROOT: string = fileURLToPath(new URL("..", import.meta.url));

const require = createRequire(import.meta.url);

/** `node-gyp-build`: finds the binary that fits this platform, or throws. */
export const nodeGypBuild = require("node-gyp-build") as {
  (dir: string): unknown;
  /** The path of the binary `load` would take. */
  resolve(dir: string): string;
};

let addon: Addon | undefined;

/**
 * Loads the addon on first use.
 *
 * @returns The addon.
 * @throws {SocklabError} `ERR_SOCKLAB_UNSUPPORTED` on a system other than
 *   Linux, or on Linux when no binary fits and none was built at install.
 */
export function loadAddon(): Addon {
  if (addon !== undefined) return addon;
  if (process.platform !== "linux") {
    throw new SocklabError(
      `Cannot load socklab's native addon on "${process.platform}": it needs Linux (recvmmsg for UNIX datagram sockets, and abstract socket names); on this system UNIX datagram sockets (@socklab/unix-dgram) and abstract names do not work, TCP, UDP and UNIX stream sockets on file paths do`,
      { code: "ERR_SOCKLAB_UNSUPPORTED" },
    );
  }
  try {
    addon = nodeGypBuild(PACKAGE_ROOT) as Addon;
  } catch (err) {
    const libc = process.report?.getReport
      ? (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
          ?.glibcVersionRuntime
        ? "glibc"
        : "musl"
      : "unknown libc";
    throw new SocklabError(
      `Cannot load socklab's native addon: no prebuilt binary fits linux-${process.arch} (${libc}; prebuilt: linux-x64 and linux-arm64 with glibc) and none was compiled at install; install make, python3 and a C compiler, then run "npm rebuild @socklab/native" (${(err as Error).message.split("\n")[0]})`,
      { code: "ERR_SOCKLAB_UNSUPPORTED", cause: err },
    );
  }
  return addon;
}
