/**
 * Test support for the socklab command: run it as a real process, read its
 * lines, stop it with a signal.
 *
 * @module
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type LineWatch, watchLines } from "@socklab/core/testing";

/** The socklab executable. */
export const SOCKLAB_BIN: string = fileURLToPath(new URL("../bin/socklab.js", import.meta.url));

/** What a finished socklab process left. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running socklab process. */
export interface CliProcess extends LineWatch {
  child: ChildProcessWithoutNullStreams;
  /** Resolves when the process has ended. */
  result: Promise<CliResult>;
  /** Sends a signal (SIGTERM by default) and waits for the end. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
}

/**
 * Starts `socklab args…` as a process (`NO_COLOR` set, stdin a pipe).
 *
 * @param args The arguments.
 * @param env Extra environment.
 * @returns The process; stop it when the test ends.
 */
export function startCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [SOCKLAB_BIN, ...args], {
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const watch = watchLines(
    child,
    () => `socklab ${args.join(" ")} (stdout: ${stdout}; stderr: ${stderr})`,
  );
  const result = new Promise<CliResult>((resolve) => {
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    ...watch,
    child,
    result,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return result;
    },
  };
}

/**
 * Runs `socklab args…` to the end.
 *
 * @param args The arguments.
 * @param input Bytes for stdin (closed afterwards).
 * @returns Exit code and output.
 */
export async function runCli(
  args: readonly string[],
  input?: string | Uint8Array,
): Promise<CliResult> {
  const cli = startCli(args);
  cli.child.stdin.end(input);
  return cli.result;
}

/**
 * Starts a socklab server and waits for its ready line.
 *
 * @param args The arguments (use `--port 0` or a temp-dir `--path`).
 * @returns The process and the URI from `listening on …` or the JSON `listening` event (the first, if several).
 */
export async function startServer(
  args: readonly string[],
): Promise<CliProcess & { address: string }> {
  const cli = startCli(args);
  const m = await cli.waitForLine(
    /^listening on (\S+)|^\{"event":"listening".*"addresses":\["([^"]+)"/,
  );
  return Object.assign(cli, { address: (m[1] ?? m[2])! });
}
