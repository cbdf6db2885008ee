/**
 * How a run shows its progress on stderr: a progress bar (cli-progress) on a
 * terminal, plain lines otherwise (CI logs, pipes), so stdout keeps only the table.
 *
 * @module
 */
import cliProgress from "cli-progress";
import type { ProgressEvent } from "./harness.ts";
import type { ManagedProcess } from "./process_registry.ts";

/** The progress display of one run. */
export interface Progress {
  /** A measurement started or finished. */
  update(event: ProgressEvent): void;
  /** A process was started (plain lines only: names and pids for logs). */
  started(process: ManagedProcess): void;
  /** A one-line note (skips, failures). */
  note(text: string): void;
  /** Removes the bar. */
  stop(): void;
}

/**
 * Creates the progress display for a stream.
 *
 * @param stream Where it is shown (stderr).
 * @returns A bar when the stream is a TTY, else plain lines.
 * @example
 * ```ts
 * import { createProgress } from "./progress.ts";
 * const progress = createProgress(process.stderr);
 * progress.note("skipping socat: not installed");
 * progress.stop();
 * ```
 */
export function createProgress(stream: NodeJS.WriteStream): Progress {
  if (stream.isTTY !== true) {
    const write = (text: string): void => {
      stream.write(`socklab-bench: ${text}\n`);
    };
    return {
      update(e) {
        const what = `[${e.phase === "done" ? e.done : e.done + 1}/${e.total}] ${e.scenario}: ${e.program}, round ${e.round}`;
        if (e.phase === "start") write(`${what} …`);
        else if (e.phase === "measuring") write(`${what}: measuring`);
        else write(`${what}: ${e.text ?? ""}`);
      },
      started(p) {
        write(`started ${p.name} (pid ${p.pid})`);
      },
      note: write,
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      stream,
      format: "bench |{bar}| {value}/{total} {what}",
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(e) {
      bar ??= multi.create(e.total, 0, { what: "" });
      const what = `${e.scenario} · ${e.program} · round ${e.round}`;
      const state =
        e.phase === "start" ? "starting" : e.phase === "measuring" ? "measuring" : e.text;
      bar.update(e.done, { what: `${what}: ${state ?? ""}` });
    },
    started() {},
    note(text) {
      multi.log(`${text}\n`);
    },
    stop() {
      multi.stop();
    },
  };
}
