/**
 * The work behind `connectTcp()`: checks the options, resolves the host, races
 * the attempts under one deadline and turns failures into one line. The dial
 * function can be swapped, so tests can stand in slow or failing connects.
 *
 * @module
 */
import * as net from "node:net";
import {
  AddressError,
  errnoName,
  explainErrorCode,
  formatHostPort,
  hostKind,
  invalidArgument,
  type ResolvedAddress,
  resolveHost,
  SocketError,
  type SocklabError,
  StreamConnection,
  TimeoutError,
} from "@socklab/core";
import {
  ATTEMPT_DELAY_MS,
  type Attempt,
  type AttemptFailure,
  type Dial,
  interleaveFamilies,
  raceAttempts,
} from "./_happy_eyeballs.ts";
import type { ConnectTcpOptions } from "./connect_tcp.ts";

const DEFAULT_TIMEOUT_MS = 10_000;
/** Node's timers fire at once for longer delays. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Says which errors tell the most about the host: a refusal proves it was reached. */
const PRIORITY = [
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "EAFNOSUPPORT",
];

/** Starts a real TCP connection attempt to one address. */
export function dialTcp(
  target: ResolvedAddress,
  port: number,
  localAddress: string | undefined,
): Attempt<net.Socket> {
  const socket = net.connect({
    host: target.address,
    port,
    ...(localAddress === undefined ? {} : { localAddress }),
  });
  let cancel!: () => void;
  const promise = new Promise<net.Socket>((resolve, reject) => {
    const onConnect = (): void => {
      socket.off("error", onError);
      resolve(socket);
    };
    const onError = (err: Error): void => {
      socket.off("connect", onConnect);
      socket.destroy();
      reject(err);
    };
    socket.once("connect", onConnect);
    socket.once("error", onError);
    cancel = () => {
      socket.off("connect", onConnect);
      socket.off("error", onError);
      // A cancelled attempt may still report an error while it closes.
      socket.on("error", ignore);
      socket.destroy();
      reject(new Error("cancelled"));
    };
  });
  // Rejections after a cancel are expected; the race has already moved on.
  promise.catch(ignore);
  return { promise, cancel };
}

function ignore(): void {}

/**
 * Connects as `connectTcp()` describes.
 *
 * @param options The public options.
 * @param dial Starts one attempt; a real TCP connect unless a test passes another.
 * @returns The connection.
 */
export async function openConnection(
  options: ConnectTcpOptions,
  dial?: Dial<net.Socket>,
): Promise<StreamConnection> {
  if (typeof options !== "object" || options === null) {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_OPTIONS",
      "Cannot connect: give the options as an object with host and port",
    );
  }
  const { host, port, signal, localAddress } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const delayMs = options.attemptDelayMs ?? ATTEMPT_DELAY_MS;
  const noDelay = options.noDelay ?? true;
  checkOptions(host, port, timeoutMs, delayMs, localAddress);
  const target = formatHostPort(host, port);
  if (signal?.aborted) throw signal.reason;

  const controller = new AbortController();
  let timedOut = false;
  const timer =
    timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, timeoutMs)
      : undefined;
  const onAbort = (): void => controller.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    let addresses: ResolvedAddress[];
    try {
      addresses = await untilAborted(resolveHost(host), controller.signal);
    } catch (err) {
      if (timedOut) {
        throw new TimeoutError(
          `Cannot connect to "${target}": timed out after ${timeoutMs} ms resolving "${host}"`,
          timeoutMs,
        );
      }
      if (signal?.aborted) throw signal.reason;
      throw unresolvable(target, host, err);
    }
    addresses = interleaveFamilies(addresses);
    if (localAddress !== undefined) {
      const family = net.isIPv4(localAddress) ? 4 : 6;
      addresses = addresses.filter((a) => a.family === family);
      if (addresses.length === 0) {
        throw new AddressError(
          `Cannot connect to "${target}" from "${localAddress}": "${host}" has no IPv${family} address`,
          { code: "ERR_SOCKLAB_UNRESOLVABLE" },
        );
      }
    }
    const result = await raceAttempts(addresses, dial ?? ((t) => dialTcp(t, port, localAddress)), {
      delayMs,
      signal: controller.signal,
    });
    if (result.ok) {
      const socket = result.value;
      socket.setNoDelay(noDelay);
      return new StreamConnection(
        socket,
        options.maxBuffered === undefined ? {} : { maxBuffered: options.maxBuffered },
      );
    }
    if (result.aborted && !timedOut) throw signal?.reason;
    const tried = describeTried(host, result.started);
    if (result.aborted) {
      throw new TimeoutError(
        `Cannot connect to "${target}": timed out after ${timeoutMs} ms${withTried("", tried)}`,
        timeoutMs,
      );
    }
    throw connectFailure(target, port, result.failures, tried);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

function checkOptions(
  host: unknown,
  port: unknown,
  timeoutMs: unknown,
  delayMs: unknown,
  localAddress: unknown,
): void {
  if (typeof host !== "string") {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_HOST",
      `Cannot connect to host ${describe(host)}: it must be a string such as "localhost" or "::1"`,
    );
  }
  hostKind(host);
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_PORT",
      `Cannot connect to port ${describe(port)}: a server's port is 1 to 65535`,
    );
  }
  for (const [name, value] of [
    ["timeoutMs", timeoutMs],
    ["attemptDelayMs", delayMs],
  ] as const) {
    if (typeof value !== "number" || !(value >= 0 && value <= MAX_TIMEOUT_MS)) {
      throw invalidArgument(
        "range",
        "ERR_SOCKLAB_INVALID_TIMEOUT",
        `Cannot use ${name} ${describe(value)}: it must be 0 to ${MAX_TIMEOUT_MS} milliseconds`,
      );
    }
  }
  if (localAddress !== undefined && (typeof localAddress !== "string" || !net.isIP(localAddress))) {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_HOST",
      `Cannot connect from ${describe(localAddress)}: the local address must be an IP address`,
    );
  }
}

function describe(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : String(value);
}

/** Settles like `promise`, or rejects as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

function unresolvable(target: string, host: string, err: unknown): SocklabError {
  if (!(err instanceof AddressError)) {
    return new SocketError(`Cannot connect to "${target}": ${String(err)}`, { cause: err });
  }
  const prefix = `Cannot resolve "${host}": `;
  const reason = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  return new AddressError(`Cannot connect to "${target}": ${reason}`, {
    code: "ERR_SOCKLAB_UNRESOLVABLE",
    cause: err,
  });
}

/** The addresses worth naming: several, or the one a name stood for. */
function describeTried(host: string, started: readonly ResolvedAddress[]): string {
  if (started.length === 0) return "";
  if (started.length === 1 && started[0]!.address === host) return "";
  return `tried ${started.map((a) => a.address).join(", ")}`;
}

/** Adds `tried …` to a reason, inside its final parenthesis if it has one. */
function withTried(reason: string, tried: string): string {
  if (tried === "") return reason;
  if (reason.endsWith(")")) return `${reason.slice(0, -1)}; ${tried})`;
  return `${reason} (${tried})`;
}

function codeOf(err: unknown): string {
  const e = (err ?? {}) as { code?: unknown; errno?: unknown };
  if (typeof e.code === "string") return e.code;
  if (typeof e.errno === "number") return errnoName(e.errno);
  return "EUNKNOWN";
}

function reasonOf(err: unknown): string {
  const code = codeOf(err);
  if (code === "EUNKNOWN") return err instanceof Error ? err.message : String(err);
  return explainErrorCode(code);
}

function connectFailure(
  target: string,
  port: number,
  failures: readonly AttemptFailure[],
  tried: string,
): SocklabError {
  const codes = failures.map((f) => codeOf(f.error));
  const rank = (code: string): number => {
    const i = PRIORITY.indexOf(code);
    return i < 0 ? PRIORITY.length : i;
  };
  let primary = 0;
  for (let i = 1; i < failures.length; i++) {
    if (rank(codes[i]!) < rank(codes[primary]!)) primary = i;
  }
  const main = failures[primary]!.error;
  const code = codes[primary]!;
  const reasons = new Set(failures.map((f) => reasonOf(f.error)));
  const message =
    reasons.size <= 1
      ? `Cannot connect to "${target}": ${withTried(reasonOf(main), tried)}`
      : `Cannot connect to "${target}": ${failures
          .map((f) => `${formatIp(f.target.address)}: ${reasonOf(f.error)}`)
          .join("; ")}`;
  const syscall = (main as { syscall?: unknown }).syscall;
  const errno = (main as { errno?: unknown }).errno;
  const cause =
    failures.length === 1
      ? main
      : new AggregateError(
          failures.map((f) => f.error),
          "Every address failed",
        );
  if (code === "ETIMEDOUT") return new TimeoutError(message, 0, { cause });
  return new SocketError(message, {
    code,
    cause,
    address: target,
    port,
    ...(typeof syscall === "string" ? { syscall } : {}),
    ...(typeof errno === "number" ? { errno } : {}),
  });
}

function formatIp(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}
