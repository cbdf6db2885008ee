/**
 * What the bench reads about a server from Linux's /proc: CPU time of its
 * process group (so forked children, as socat's, count too) and resident memory.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticks: number | undefined;

/**
 * Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux).
 *
 * @returns Ticks per second.
 */
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/**
 * Reads the fields of /proc/<pid>/stat after the command name.
 *
 * @param pid A process id.
 * @returns Fields 3… of the stat line (state first), or undefined when the process is gone.
 */
function statFields(pid: string | number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/**
 * CPU time of one process, all its threads: the scheduler's nanosecond count
 * (`/proc/<pid>/task/<tid>/schedstat`) where the kernel has it, else utime+stime
 * in clock ticks. Ticks are a sample taken on each timer interrupt, and
 * undercount processes that run in bursts shorter than a tick (socat's forked
 * children showed a third of their real time that way).
 *
 * @param pid The process.
 * @param fields Its stat fields (for the tick fallback).
 * @returns Seconds.
 */
function processCpuSeconds(pid: string, fields: readonly string[]): number {
  try {
    let nanoseconds = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      nanoseconds += Number(
        readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0],
      );
    }
    if (Number.isFinite(nanoseconds)) return nanoseconds / 1e9;
  } catch {
    // no schedstat (or the process just ended): use the ticks
  }
  // utime and stime are fields 14 and 15.
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/**
 * CPU time (user + system) of every process in a group, so the children a
 * server forks count too (socat forks one per connection).
 *
 * @param pgid The process group: the pid of a process started as a group leader.
 * @returns Seconds, or NaN where /proc is not available. Time of processes that
 *   ended between two samples is not counted: take both samples while the load runs.
 * @example
 * ```ts
 * import { groupCpuSeconds } from "./proc_stats.ts";
 * const before = groupCpuSeconds(server.pid);
 * ```
 */
export function groupCpuSeconds(pgid: number): number {
  let names: string[];
  try {
    names = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return Number.NaN;
  }
  let total = 0;
  for (const name of names) {
    const fields = statFields(name);
    // fields[2] is pgrp (field 5 of the stat line).
    if (fields === undefined || Number(fields[2]) !== pgid) continue;
    total += processCpuSeconds(name, fields);
  }
  return total;
}

/**
 * Resident memory of a process (VmRSS).
 *
 * @param pid The process.
 * @returns Bytes, or NaN when the process is gone or /proc is not available.
 * @example
 * ```ts
 * import { rssBytes } from "./proc_stats.ts";
 * rssBytes(process.pid) > 0; // true
 * ```
 */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? Number.NaN : Number(match[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

/**
 * Whether a process still exists (and is not a zombie).
 *
 * @param pid The process.
 * @returns True while it runs.
 * @example
 * ```ts
 * import { isRunning } from "./proc_stats.ts";
 * isRunning(process.pid); // true
 * ```
 */
export function isRunning(pid: number): boolean {
  const fields = statFields(pid);
  if (fields !== undefined) return fields[0] !== "Z";
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
