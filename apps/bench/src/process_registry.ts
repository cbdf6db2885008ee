/**
 * Every process the bench starts, so it can stop them all: each runs in a
 * process group of its own (so Ctrl-C in the terminal reaches only the bench,
 * which then stops them in order) and is stopped by signalling the whole group,
 * which also reaches what it forked.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** How to start a process. */
export interface StartOptions {
  /** A short name for progress lines and errors (`python-selectors`). */
  name: string;
  command: string;
  args: readonly string[];
  /** Raise the soft open-file limit to the hard limit first (through `/bin/sh -c ulimit`). */
  raiseFileLimit?: boolean;
  /** Keep stdin open for writing (load clients that wait for a go-ahead). */
  stdin?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

type LineListener = (line: string, stream: "stdout" | "stderr") => void;

/** A running process the registry knows, with its output as lines. */
export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has ended. */
  readonly exited: Promise<Exit>;
  /** Set once the process has ended. */
  exit: Exit | undefined;
  /** The last lines of stdout and stderr, for error messages. */
  readonly recent: string[] = [];
  readonly #listeners = new Set<LineListener>();

  constructor(options: StartOptions) {
    this.name = options.name;
    const [command, args] = options.raiseFileLimit
      ? [
          "/bin/sh",
          [
            "-c",
            'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"',
            options.command,
            ...options.args,
          ],
        ]
      : [options.command, options.args];
    this.child = spawn(command, args, {
      detached: true,
      stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
      env: options.env ?? process.env,
    });
    this.exited = new Promise((resolve) => {
      this.child.once("error", (err) => {
        this.#push(`${err.message}`, "stderr");
        this.exit ??= { code: null, signal: null };
        resolve(this.exit);
      });
      this.child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    // A failed spawn (no such program) has no pid: use -1 so nothing is ever signalled.
    this.pid = this.child.pid ?? -1;
    for (const stream of ["stdout", "stderr"] as const) {
      // Lines are read (and dropped) as they come so a chatty server never blocks on a full pipe.
      createInterface({ input: this.child[stream]! }).on("line", (line) =>
        this.#push(line, stream),
      );
    }
  }

  #push(line: string, stream: "stdout" | "stderr"): void {
    this.recent.push(line);
    if (this.recent.length > 20) this.recent.shift();
    for (const listener of this.#listeners) listener(line, stream);
  }

  /** True until the process has ended. */
  get running(): boolean {
    return this.exit === undefined;
  }

  /**
   * Calls `listener` for each later line of output.
   *
   * @param listener Gets the line and its stream.
   * @returns A function that removes the listener.
   */
  onLine(listener: LineListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Resolves with the first later output line that matches.
   *
   * @param pattern What to wait for (on stdout or stderr).
   * @param timeoutMs Give up after this long.
   * @returns The match.
   */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error, match?: RegExpExecArray): void => {
        clearTimeout(timer);
        remove();
        if (match !== undefined) resolve(match);
        else reject(error);
      };
      const remove = this.onLine((line) => {
        const match = pattern.exec(line);
        if (match !== null) finish(undefined, match);
      });
      const timer = setTimeout(
        () =>
          finish(
            new Error(`${this.name} printed no ${pattern} within ${timeoutMs} ms${this.#tail()}`),
          ),
        timeoutMs,
      );
      void this.exited.then((exit) =>
        finish(
          new Error(
            `${this.name} exited (${describeExit(exit)}) before it was ready${this.#tail()}`,
          ),
        ),
      );
    });
  }

  #tail(): string {
    const why = lastError(this.recent);
    return why === "" ? "" : `: ${why}`;
  }

  /**
   * Signals the process's whole group.
   *
   * @param signal The signal.
   */
  signalGroup(signal: NodeJS.Signals): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // the group is gone already
    }
  }

  /**
   * Stops the process: SIGTERM to its group, SIGKILL if it has not ended after
   * `graceMs`, and SIGKILL to the group once the leader is gone (stragglers).
   *
   * @param graceMs How long SIGTERM gets.
   * @returns When the process has ended.
   */
  async stop(graceMs = 2000): Promise<Exit> {
    if (this.running) {
      this.signalGroup("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.exited,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    this.signalGroup("SIGKILL");
    return this.exited;
  }
}

/**
 * The line of a process's output that best says why it failed: the last one
 * naming an error (a Python traceback's last line, Node's `Error: …`), else the
 * last non-empty line.
 *
 * @param lines Recent output lines.
 * @returns One line, trimmed (empty when there is none).
 * @example
 * ```ts
 * import { lastError } from "./process_registry.ts";
 * lastError(["Traceback …", "OSError: [Errno 98] Address already in use", ""]); // "OSError: [Errno 98] Address already in use"
 * ```
 */
export function lastError(lines: readonly string[]): string {
  const present = lines.map((line) => line.trim()).filter((line) => line !== "");
  const named = present.filter((line) => /\w*(Error|Exception)\b|^error\b|: error/i.test(line));
  return (named.at(-1) ?? present.at(-1) ?? "").slice(0, 200);
}

/**
 * A short text for how a process ended: `code 1`, `SIGKILL`.
 *
 * @param exit The exit.
 * @returns The text.
 */
export function describeExit(exit: Exit): string {
  return exit.signal ?? `code ${exit.code}`;
}

/** Starts processes and stops all of them, also when the bench is interrupted. */
export class ProcessRegistry {
  readonly #live = new Set<ManagedProcess>();
  /** Every process started, in order (for the JSON report and tests). */
  readonly started: { name: string; pid: number }[] = [];
  /** Called with each process right after it started. */
  onStart: ((process: ManagedProcess) => void) | undefined;

  /**
   * Starts a process in its own group.
   *
   * @param options Command, arguments, name.
   * @returns The process.
   * @example
   * ```ts
   * import { ProcessRegistry } from "./process_registry.ts";
   * const registry = new ProcessRegistry();
   * const server = registry.start({ name: "echo", command: "node", args: ["peers/node_net_echo.mjs"] });
   * await registry.stopAll();
   * ```
   */
  start(options: StartOptions): ManagedProcess {
    const managed = new ManagedProcess(options);
    this.#live.add(managed);
    this.started.push({ name: managed.name, pid: managed.pid });
    void managed.exited.then(() => this.#live.delete(managed));
    this.onStart?.(managed);
    return managed;
  }

  /**
   * Stops every process still running (SIGTERM, then SIGKILL after the grace period).
   *
   * @param graceMs How long SIGTERM gets.
   * @returns When all have ended.
   */
  async stopAll(graceMs = 2000): Promise<void> {
    await Promise.all([...this.#live].map((p) => p.stop(graceMs)));
  }

  /** SIGKILL to every group still known, synchronously (for `process.on("exit")`). */
  killAllNow(): void {
    for (const managed of this.#live) managed.signalGroup("SIGKILL");
  }
}
