/**
 * A program as an end of a copy: its stdin and stdout, as `socat EXEC:` and
 * `ncat -e` give each client its own process.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { SocklabError } from "@socklab/core";
import {
  type Copy,
  type CopyCounts,
  type CopyOptions,
  copyBothWays,
  type StreamEnd,
} from "./copy_both_ways.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/** How a process ended: its exit code, or the signal that ended it. */
export interface ProcessExit {
  /** The exit code, or `null` when a signal ended it. */
  code: number | null;
  /** The signal that ended it (`SIGTERM`), or `null`. */
  signal: NodeJS.Signals | null;
}

/** A running program made an end of a copy, from {@linkcode spawnProcessEnd}. */
export interface ProcessEnd extends StreamEnd {
  /** The process id. */
  readonly pid: number;
  /** Resolves when the process has ended. */
  readonly exited: Promise<ProcessExit>;
  /** Ends the process: SIGTERM, then SIGKILL if it is still running after the kill grace. */
  kill(): void;
}

/** Options of {@linkcode spawnProcessEnd}. */
export interface ProcessEndOptions {
  /** How users read it. Default `exec:` and the argv joined by spaces. */
  name?: string;
  /** How long the process has after SIGTERM before SIGKILL, in milliseconds (default 2000). */
  killGraceMs?: number;
  /** How long `close()` waits for the process to exit by itself before killing it, in milliseconds (default 2000). */
  exitGraceMs?: number;
}

/**
 * Starts a program (no shell: `argv[0]` is looked up on `PATH`) and makes it an
 * end of {@linkcode copyBothWays}: its stdout is what the end sends, what the
 * end is given goes to its stdin with backpressure, and the half-close closes
 * its stdin (the program reads its end of file). Its stderr is the caller's
 * stderr, unchanged, as with socat and ncat. Once the program has closed its
 * stdin or exited, what the end is given is discarded (a program that stops
 * reading ends its input, not the copy). `destroy()` and `kill()` end it with
 * SIGTERM, then SIGKILL after `killGraceMs`; `close()` waits up to `exitGraceMs`
 * for it to exit, then kills it.
 *
 * @param argv The program and its arguments (see {@linkcode splitCommand}).
 * @param options Name and graces.
 * @returns The end, once the program runs.
 * @throws {SocklabError} `ERR_SOCKLAB_CANNOT_RUN` (the spawn error as `cause`) when the program cannot be started.
 * @example
 * ```ts
 * import { copyBothWays, connectionEnd, spawnProcessEnd } from "@socklab/relay";
 * const child = await spawnProcessEnd(["cat"]);
 * // copyBothWays(connectionEnd(conn, "tcp://127.0.0.1:40000"), child);
 * child.kill();
 * console.log(await child.exited); // { code: null, signal: "SIGTERM" }
 * ```
 */
export async function spawnProcessEnd(
  argv: readonly string[],
  options: ProcessEndOptions = {},
): Promise<ProcessEnd> {
  const [file, ...args] = argv;
  if (file === undefined) throw new TypeError("Cannot run an empty command");
  const name = options.name ?? `exec:${argv.join(" ")}`;
  const child = spawn(file, args, { stdio: ["pipe", "pipe", "inherit"] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such program"
        : code === "EACCES"
          ? "permission denied"
          : (err as Error).message;
    throw new SocklabError(`Cannot run "${file}": ${why}`, {
      code: "ERR_SOCKLAB_CANNOT_RUN",
      cause: err,
    });
  }
  return processEnd(child, name, options);
}

function processEnd(child: ChildProcess, name: string, options: ProcessEndOptions): ProcessEnd {
  const stdin = child.stdin!;
  const stdout = child.stdout!;
  const killGraceMs = options.killGraceMs ?? 2000;
  const exitGraceMs = options.exitGraceMs ?? 2000;
  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  // A program that exits or closes its stdin makes writes fail with EPIPE: its input is over, nothing more.
  let inputOpen = true;
  stdin.on("error", () => {
    inputOpen = false;
  });
  stdin.once("close", () => {
    inputOpen = false;
  });
  let killTimer: NodeJS.Timeout | undefined;
  const kill = (): void => {
    if (exit !== undefined || killTimer !== undefined) return;
    child.kill("SIGTERM");
    killTimer = setTimeout(() => {
      if (exit === undefined) child.kill("SIGKILL");
    }, killGraceMs);
    exited.then(() => clearTimeout(killTimer));
  };
  return {
    name,
    pid: child.pid!,
    exited,
    kill,
    chunks: stdout,
    write(chunk) {
      if (!inputOpen || stdin.writableEnded) return RESOLVED;
      if (stdin.write(chunk)) return RESOLVED;
      return new Promise<void>((resolve) => {
        const settle = (): void => {
          stdin.off("drain", settle);
          stdin.off("close", settle);
          stdin.off("error", settle);
          resolve();
        };
        stdin.on("drain", settle);
        stdin.on("close", settle);
        stdin.on("error", settle);
      });
    },
    end() {
      if (inputOpen && !stdin.writableEnded) stdin.end();
      return RESOLVED;
    },
    async close() {
      if (exit !== undefined) return;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, exitGraceMs);
      });
      await Promise.race([exited, late]);
      clearTimeout(timer);
      kill();
      await exited;
    },
    destroy() {
      kill();
      stdin.destroy();
      stdout.destroy();
    },
  };
}

/** Options of {@linkcode copyToProcess}. */
export interface CopyToProcessOptions extends ProcessEndOptions, Pick<CopyOptions, "onChunk"> {
  /** After the program has exited and its output is passed on, how long the client may take to end its side, in milliseconds (default 500, socat's `-t`). */
  lingerMs?: number;
}

/** A client copied to and from its own program, from {@linkcode copyToProcess}. */
export interface ProcessCopy {
  /** The program. */
  readonly process: ProcessEnd;
  /** The copy (`aToB`: client to program). */
  readonly copy: Copy;
  /** Resolves when the copy is done and the program has exited: the byte counts, the exit, and the copy's failure if any. */
  readonly done: Promise<{ counts: CopyCounts; exit: ProcessExit; error: Error | undefined }>;
}

/**
 * Gives one client its own program, as `socat …,fork EXEC:…` and `ncat -e` do:
 * starts it with {@linkcode spawnProcessEnd} and copies both ways between the
 * client and its stdin and stdout. The client's end of stream closes the
 * program's stdin; the program's end of output half-closes the client. When the
 * program has exited and its output is passed on, the client has `lingerMs` to
 * end its side (what it sends meanwhile is discarded), then the connection is
 * closed. When the client goes away (a reset, a failed write) or `copy.stop()`
 * is called, the program is killed.
 *
 * @param client The client's end.
 * @param argv The program and its arguments.
 * @param options Graces, a hook for every chunk.
 * @returns The program and the copy, once the program runs.
 * @throws {Error} When the program cannot be started (the client is left to the caller).
 * @example
 * ```ts
 * import { connectionEnd, copyToProcess } from "@socklab/relay";
 * // const run = await copyToProcess(connectionEnd(conn, "tcp://127.0.0.1:40000"), ["cat"]);
 * // const { counts, exit } = await run.done; // exit: { code: 0, signal: null }
 * ```
 */
export async function copyToProcess(
  client: StreamEnd,
  argv: readonly string[],
  options: CopyToProcessOptions = {},
): Promise<ProcessCopy> {
  const child = await spawnProcessEnd(argv, options);
  const copy = copyBothWays(client, child, {
    ...(options.onChunk === undefined ? {} : { onChunk: options.onChunk }),
  });
  const lingerMs = options.lingerMs ?? 500;
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  // The program is done and its output delivered: give the client a moment to end, then close.
  Promise.all([child.exited, copy.finished.bToA]).then(() => {
    if (!settled) timer = setTimeout(() => copy.stop(), lingerMs);
  });
  const done = (async () => {
    let error: Error | undefined;
    try {
      await copy.done;
    } catch (err) {
      error = err as Error;
    }
    settled = true;
    clearTimeout(timer);
    child.kill();
    const exit = await child.exited;
    return { counts: { ...copy.counts }, exit, error };
  })();
  return { process: child, copy, done };
}

/**
 * Says how a process ended, for logs: `exited with 0`, `killed by SIGTERM`.
 *
 * @param exit The exit.
 * @returns The words.
 * @example
 * ```ts
 * import { describeExit } from "@socklab/relay";
 * describeExit({ code: 3, signal: null }); // "exited with 3"
 * ```
 */
export function describeExit(exit: ProcessExit): string {
  return exit.signal === null ? `exited with ${exit.code}` : `killed by ${exit.signal}`;
}
