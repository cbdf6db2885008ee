/**
 * Test support for `connect`, `listen` and `relay`: the real tools (nc, socat)
 * as peers, processes whose ready line is on stderr, and file digests.
 *
 * @module
 */
import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { onTestFinished } from "vitest";
import { SOCKLAB_BIN } from "../_test_cli.ts";

/** A process started by {@linkcode startProcess}. */
export interface Peer {
  child: ChildProcess;
  /** Everything on stderr so far. */
  stderr(): string;
  /** Everything on stdout so far (when stdout is a pipe). */
  stdout(): Buffer;
  /** Resolves with the first stderr line matching `pattern`; rejects if the process ends first. */
  stderrLine(pattern: RegExp): Promise<RegExpExecArray>;
  /** Resolves with the exit code (or signal) when the process has ended. */
  exited: Promise<number | string>;
}

/**
 * Starts a program, killed when the test ends.
 *
 * @param command The program (`nc`, `socat`, `node`).
 * @param args Its arguments.
 * @param stdio Node's stdio setting (pipes by default).
 * @returns The process with its output.
 */
export function startProcess(
  command: string,
  args: readonly string[],
  stdio: StdioOptions = ["pipe", "pipe", "pipe"],
): Peer {
  const child = spawn(command, args, { stdio, env: { ...process.env, NO_COLOR: "1" } });
  let err = "";
  const out: Buffer[] = [];
  child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  child.stdin?.on("error", () => {});
  const exited = new Promise<number | string>((resolve) => {
    child.once("close", (code, signal) => resolve(code ?? signal ?? -1));
  });
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  });
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (m: RegExpExecArray) => void }>();
  if (child.stderr) {
    createInterface({ input: child.stderr }).on("line", (line) => {
      lines.push(line);
      for (const w of waiters) {
        const m = w.pattern.exec(line);
        if (m !== null) {
          waiters.delete(w);
          w.resolve(m);
        }
      }
    });
  }
  return {
    child,
    stderr: () => err,
    stdout: () => Buffer.concat(out),
    exited,
    stderrLine(pattern) {
      for (const line of lines) {
        const m = pattern.exec(line);
        if (m !== null) return Promise.resolve(m);
      }
      return Promise.race([
        new Promise<RegExpExecArray>((resolve) => waiters.add({ pattern, resolve })),
        exited.then((code) => {
          throw new Error(`${command} ${args.join(" ")} ended (${code}) before ${pattern}: ${err}`);
        }),
      ]);
    },
  };
}

/**
 * Starts `socklab args…` (stdio pipes unless given).
 *
 * @param args The arguments.
 * @param stdio Node's stdio setting.
 * @returns The process.
 */
export function startSocklab(
  args: readonly string[],
  stdio: StdioOptions = ["pipe", "pipe", "pipe"],
): Peer {
  return startProcess(process.execPath, [SOCKLAB_BIN, ...args], stdio);
}

/**
 * Starts a socklab server whose ready line is on stderr (`listen`), and waits for it.
 *
 * @param args The arguments (port 0 or a temp-dir path).
 * @param stdio Node's stdio setting.
 * @returns The process and the address it listens on.
 */
export async function startListening(
  args: readonly string[],
  stdio: StdioOptions = ["pipe", "pipe", "pipe"],
): Promise<Peer & { address: string; port: number }> {
  const peer = startSocklab(args, stdio);
  const m = await peer.stderrLine(/^listening on (\S+)/);
  const address = m[1]!;
  return Object.assign(peer, { address, port: Number(/:(\d+)$/.exec(address)?.[1] ?? 0) });
}

/**
 * Starts socat with `-d -d` and waits until it listens.
 *
 * @param args socat's addresses (the first one listening, with port 0 for IP).
 * @param stdio Node's stdio setting.
 * @returns The process and the port it listens on (0 for UNIX sockets).
 */
export async function startSocat(
  args: readonly string[],
  stdio: StdioOptions = ["pipe", "pipe", "pipe"],
): Promise<Peer & { port: number }> {
  const peer = startProcess("socat", ["-d", "-d", ...args], stdio);
  const m = await peer.stderrLine(/(?:listening|receiving) on (?:AF=\d+ \S*:(\d+)|.*)/);
  return Object.assign(peer, { port: Number(m[1] ?? 0) });
}

/**
 * Starts OpenBSD nc listening (`-l`, verbose) and waits until it listens.
 *
 * @param args nc's arguments after `-lv` (`-n 127.0.0.1 0`, `-U /path`).
 * @param stdio Node's stdio setting.
 * @returns The process and its port (0 for UNIX sockets).
 */
export async function startNcListen(
  args: readonly string[],
  stdio: StdioOptions = ["pipe", "pipe", "pipe"],
): Promise<Peer & { port: number }> {
  const peer = startProcess("nc", ["-lv", ...args], stdio);
  const m = await peer.stderrLine(/^(?:Bound on|Listening on) \S+ (\d+)|^Listening on /);
  return Object.assign(peer, { port: Number(m[1] ?? 0) });
}

/**
 * The SHA-256 of a file, read as a stream.
 *
 * @param path The file.
 * @returns The digest in hex.
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const stream = createReadStream(path);
  stream.on("data", (chunk) => hash.update(chunk));
  await once(stream, "end");
  return hash.digest("hex");
}
