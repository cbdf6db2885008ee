/**
 * Test support shared by the socklab packages (`@socklab/core/testing`): the
 * tutorial's Python listings with a test's own port or path swapped in, Python
 * processes to talk to, temp dirs and tool checks. Not for production code.
 *
 * @module
 */
import {
  type ChildProcess,
  type ChildProcessWithoutNullStreams,
  execFileSync,
  spawn,
} from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";

/** The folder with the tutorial's listings, at the repository root. */
export const TUTORIAL_DIR: string = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "tutorial",
);

/** The tutorial's programs, by listing. */
export type ListingName =
  | "3.2 web server"
  | "3.3 client"
  | "3.4 udp server"
  | "3.5 udp client"
  | "3.6 unix stream server"
  | "3.9 unix stream client"
  | "3.10 unix dgram server"
  | "3.11 unix dgram client"
  | "3.15 select server";

const FILES: Record<ListingName, string> = {
  "3.2 web server": "listing_3_2_web_server.py",
  "3.3 client": "listing_3_3_client.py",
  "3.4 udp server": "listing_3_4_udp_server.py",
  "3.5 udp client": "listing_3_5_udp_client.py",
  "3.6 unix stream server": "listing_3_6_unix_stream_server.py",
  "3.9 unix stream client": "listing_3_9_unix_stream_client.py",
  "3.10 unix dgram server": "listing_3_10_unix_dgram_server.py",
  "3.11 unix dgram client": "listing_3_11_unix_dgram_client.py",
  "3.15 select server": "listing_3_15_select_server.py",
};

/** What to change in a listing so it runs inside a test. */
export interface ListingOverrides {
  /** Replaces `host = 'localhost'`. */
  host?: string;
  /** Replaces `port = 50000` (use 0 for a server, with `announce`). */
  port?: number;
  /** Replaces `socket_pfad = '/tmp/...'`. */
  path?: string;
  /**
   * For servers: print `socklab-ready <address>` right after bind/listen, so a
   * test knows the port (`port: 0`) and that the socket is ready, without polling.
   */
  announce?: boolean;
}

/**
 * The Python source of a tutorial listing, exactly as printed but for the
 * overrides.
 *
 * @param name Which listing.
 * @param overrides Host, port, path, readiness line.
 * @returns Python source, for `python3 -c`.
 * @example
 * ```ts
 * import { tutorialListing } from "@socklab/core/testing";
 * const source = tutorialListing("3.5 udp client", { port: 40000 });
 * ```
 */
export function tutorialListing(name: ListingName, overrides: ListingOverrides = {}): string {
  let source = readFileSync(join(TUTORIAL_DIR, FILES[name]), "utf8");
  const replace = (pattern: RegExp, value: string): void => {
    if (!pattern.test(source)) throw new Error(`Listing ${name} has no line matching ${pattern}`);
    source = source.replace(pattern, value);
  };
  if (overrides.host !== undefined)
    replace(/^host = .*$/m, `host = ${JSON.stringify(overrides.host)}`);
  if (overrides.port !== undefined) replace(/^port = 50000$/m, `port = ${overrides.port}`);
  if (overrides.path !== undefined)
    replace(/^socket_pfad = .*$/m, `socket_pfad = ${JSON.stringify(overrides.path)}`);
  if (overrides.announce) {
    const lines = source.split("\n");
    const bindAt = lines.findIndex((l) => /^\w+\.bind\(/.test(l));
    if (bindAt < 0) throw new Error(`Listing ${name} has no bind() to announce`);
    const variable = /^(\w+)\.bind/.exec(lines[bindAt]!)![1];
    const at = lines[bindAt + 1]?.startsWith(`${variable}.listen(`) ? bindAt + 2 : bindAt + 1;
    lines.splice(at, 0, `print('socklab-ready', ${variable}.getsockname(), flush=True)`);
    source = lines.join("\n");
  }
  return source;
}

/** The lines a child process prints, and a way to wait for one. */
export interface LineWatch {
  /** Every stdout line so far. */
  lines: string[];
  /** Resolves with the first stdout line matching `pattern`; rejects if the process ends first. */
  waitForLine(pattern: RegExp): Promise<RegExpExecArray>;
}

/**
 * Watches a child process's stdout line by line, for tests that wait for a
 * line ("listening on …") instead of sleeping.
 *
 * @param child The process.
 * @param describe Names the process and what it left (stderr) when it ends before the line.
 * @returns The lines so far and a waiter.
 * @example
 * ```ts
 * import { spawn } from "node:child_process";
 * import { watchLines } from "@socklab/core/testing";
 * const watch = watchLines(spawn("echo", ["hi"]), () => "echo");
 * await watch.waitForLine(/^hi$/);
 * ```
 */
export function watchLines(child: ChildProcess, describe: () => string): LineWatch {
  const lines: string[] = [];
  const waiters = new Set<{
    pattern: RegExp;
    resolve: (m: RegExpExecArray) => void;
    reject: (e: Error) => void;
  }>();
  const ended = (): boolean => child.exitCode !== null || child.signalCode !== null;
  createInterface({ input: child.stdout! }).on("line", (line) => {
    lines.push(line);
    for (const w of waiters) {
      const m = w.pattern.exec(line);
      if (m !== null) {
        waiters.delete(w);
        w.resolve(m);
      }
    }
  });
  child.once("close", (code, signal) => {
    for (const w of waiters)
      w.reject(new Error(`${describe()} ended (${code ?? signal}) before printing ${w.pattern}`));
    waiters.clear();
  });
  return {
    lines,
    waitForLine(pattern) {
      for (const line of lines) {
        const m = pattern.exec(line);
        if (m !== null) return Promise.resolve(m);
      }
      if (ended())
        return Promise.reject(new Error(`${describe()} already ended before printing ${pattern}`));
      return new Promise((resolve, reject) => waiters.add({ pattern, resolve, reject }));
    },
  };
}

/** A running Python program with its output as lines. */
export interface PythonProcess extends LineWatch {
  child: ChildProcessWithoutNullStreams;
  /** Everything on stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  /** Kills the process (SIGKILL by default) and waits for it. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `python3 -u -c source`.
 *
 * @param source The program.
 * @param args Its arguments.
 * @returns The process; kill it when the test ends.
 * @example
 * ```ts
 * import { runPython } from "@socklab/core/testing";
 * const py = runPython("print('hi')");
 * await py.waitForLine(/^hi$/);
 * ```
 */
export function runPython(source: string, args: readonly string[] = []): PythonProcess {
  const child = spawn("python3", ["-u", "-c", source, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const watch = watchLines(child, () => `python3 (stderr: ${err.trim()})`);
  const exited = new Promise<number | string>((resolve) => {
    child.once("close", (code, signal) => resolve(code ?? signal ?? -1));
  });
  return {
    ...watch,
    child,
    exited,
    stderr: () => err,
    async kill(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/**
 * Starts a tutorial server listing on a system-picked port (or a given path) and
 * waits until it is bound.
 *
 * @param name A server listing.
 * @param overrides Host or path; the port is 0.
 * @returns The process and the port it bound (0 for UNIX listings).
 * @example
 * ```ts
 * import { startTutorialServer } from "@socklab/core/testing";
 * const { port, python } = await startTutorialServer("3.4 udp server", { host: "127.0.0.1" });
 * ```
 */
export async function startTutorialServer(
  name: ListingName,
  overrides: Omit<ListingOverrides, "announce" | "port"> = {},
): Promise<{ python: PythonProcess; port: number }> {
  const ip = !name.includes("unix");
  const python = runPython(
    tutorialListing(name, { ...overrides, ...(ip ? { port: 0 } : {}), announce: true }),
  );
  const m = await python.waitForLine(/^socklab-ready (.*)$/);
  const port = ip ? Number(/(\d+)\)?$/.exec(m[1]!.replace(/, 0, 0\)$/, ")"))?.[1] ?? "0") : 0;
  return { python, port };
}

/**
 * Makes a fresh temp dir; remove it with the returned function.
 *
 * @param prefix Name prefix.
 * @returns The path and a remover.
 * @example
 * ```ts
 * import { makeTempDir } from "@socklab/core/testing";
 * const { path, remove } = await makeTempDir("udp");
 * await remove();
 * ```
 */
export async function makeTempDir(
  prefix = "socklab",
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * Whether a program is on the PATH (`socat`, `nc`, `curl`).
 *
 * @param name The program.
 * @returns `true` when `command -v` finds it.
 * @example
 * ```ts
 * import { hasCommand } from "@socklab/core/testing";
 * hasCommand("python3"); // true
 * ```
 */
export function hasCommand(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * A fresh temp dir for the running vitest test, removed when it finishes.
 *
 * @param prefix Name prefix.
 * @returns The path.
 * @example
 * ```ts
 * import { testDir } from "@socklab/core/testing";
 * const dir = await testDir("udp"); // inside a test
 * ```
 */
export async function testDir(prefix = "socklab"): Promise<string> {
  const dir = await makeTempDir(prefix);
  onTestFinished(() => dir.remove());
  return dir.path;
}

/**
 * Closes a socket or server when the running vitest test finishes.
 *
 * @param closable Anything with `close()`.
 * @returns The same object.
 * @example
 * ```ts
 * import { closeAfterTest } from "@socklab/core/testing";
 * const server = closeAfterTest(await bindSomething());
 * ```
 */
export function closeAfterTest<T extends { close(): unknown }>(closable: T): T {
  onTestFinished(async () => {
    await closable.close();
  });
  return closable;
}
export { type InteropTool, requireTools, testWithTools } from "./_require_tool.ts";
