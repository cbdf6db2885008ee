/**
 * Python peers for the tests: small programs that bind, receive or send UNIX
 * datagrams and say what they did on stdout, one line at a time.
 *
 * @module
 */
import { type PythonProcess, runPython } from "@socklab/core/testing";

/**
 * Binds `path`, prints `ready`, waits for a line on stdin (so a test can keep
 * the queue full), then receives `count` datagrams numbered by their first four
 * bytes (big-endian) and prints `received N in order` or where the order broke.
 */
const ORDERED_RECEIVER = `
import socket, struct, sys
path, count = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print("ready", flush=True)
sys.stdin.readline()
for i in range(count):
    data = s.recv(1 << 20)
    n = struct.unpack(">I", data[:4])[0]
    if n != i:
        print(f"out of order: expected {i}, got {n}", flush=True)
        sys.exit(1)
print(f"received {count} in order", flush=True)
`;

/**
 * Starts a Python receiver that reads nothing until told to (`go()`), then
 * checks that `count` numbered datagrams arrive in order.
 *
 * @param path Where to bind.
 * @param count How many datagrams to expect.
 * @returns The process and a function that lets it start reading.
 */
export async function startOrderedReceiver(
  path: string,
  count: number,
): Promise<PythonProcess & { go(): void }> {
  const python = runPython(ORDERED_RECEIVER, [path, String(count)]);
  await python.waitForLine(/^ready$/);
  return Object.assign(python, { go: () => python.child.stdin.write("go\n") });
}

/**
 * Binds `path`, prints `ready`, then prints `<length> <repr of the first 40
 * bytes> <sender>` for every datagram until killed.
 */
const PRINTING_RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
while True:
    data, sender = s.recvfrom(1 << 20)
    print(len(data), repr(data[:40]), repr(sender), flush=True)
`;

/**
 * Starts a Python program bound to `path` that prints each datagram it gets.
 *
 * @param path Where to bind.
 * @returns The process, once bound; kill it when done.
 */
export async function startPrintingReceiver(path: string): Promise<PythonProcess> {
  const python = runPython(PRINTING_RECEIVER, [path]);
  await python.waitForLine(/^ready$/);
  return python;
}

/** Binds `path` and exits without closing or unlinking: a stale socket file stays. */
const STALE_MAKER = `
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os._exit(0)
`;

/**
 * Leaves a stale UNIX datagram socket file at `path`, as a crashed program does.
 *
 * @param path Where.
 */
export async function makeStaleSocket(path: string): Promise<void> {
  const python = runPython(STALE_MAKER, [path]);
  const code = await python.exited;
  if (code !== 0) throw new Error(`python3 failed: ${python.stderr()}`);
}

/** Sends each stdin line (hex) as one datagram to the path in argv[1], unbound. */
const SENDER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for line in sys.stdin:
    s.sendto(bytes.fromhex(line.strip()), sys.argv[1])
print("sent", flush=True)
`;

/**
 * Sends datagrams from an unbound Python socket.
 *
 * @param path The receiver.
 * @param datagrams The datagrams.
 */
export async function pythonSend(path: string, datagrams: readonly Uint8Array[]): Promise<void> {
  const python = runPython(SENDER, [path]);
  python.child.stdin.end(datagrams.map((d) => `${Buffer.from(d).toString("hex")}\n`).join(""));
  const code = await python.exited;
  if (code !== 0) throw new Error(`python3 failed: ${python.stderr()}`);
}

/** Binds its own path, sends a datagram, prints the reply and who sent it. */
const BOUND_SENDER = `
import socket, sys
server, own, message = sys.argv[1], sys.argv[2], sys.argv[3].encode()
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(own)
s.settimeout(10)
s.sendto(message, server)
data, sender = s.recvfrom(1 << 20)
print("reply", repr(data), repr(sender), flush=True)
`;

/**
 * Starts a Python sender that binds `own`, sends `message` to `server` and
 * prints `reply b'...' '<server path>'` when the reply comes.
 *
 * @param server The receiver.
 * @param own The sender's own path.
 * @param message The text to send.
 * @returns The process.
 */
export function startBoundPythonSender(
  server: string,
  own: string,
  message: string,
): PythonProcess {
  return runPython(BOUND_SENDER, [server, own, message]);
}
