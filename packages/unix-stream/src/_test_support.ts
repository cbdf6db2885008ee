/**
 * Test fixtures for this package: temp dirs that are removed after each test,
 * Python programs that hold a socket path, and a raw client.
 *
 * @module
 */
import { connect } from "node:net";
import { join } from "node:path";
import { makeTempDir, type PythonProcess, runPython } from "@socklab/core/testing";
import { onTestFinished } from "vitest";

/** A fresh temp dir, removed when the test finishes; returns a path inside it. */
export async function tempPath(name = "s"): Promise<{ dir: string; path: string }> {
  const dir = await makeTempDir("socklab-unix-stream");
  onTestFinished(dir.remove);
  return { dir: dir.path, path: join(dir.path, name) };
}

/**
 * A Python server that serves any number of clients on `path`: each gets
 * `still here: ` and what it sent, after it half-closes. Killed when the test finishes.
 */
export async function pythonServer(path: string): Promise<PythonProcess> {
  const python = runPython(
    [
      "import socket, sys",
      "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
      "s.bind(sys.argv[1])",
      "s.listen(64)",
      "print('ready', flush=True)",
      "while True:",
      "    c, _ = s.accept()",
      "    data = b''",
      "    while True:",
      "        chunk = c.recv(65536)",
      "        if not chunk: break",
      "        data += chunk",
      "    c.sendall(b'still here: ' + data)",
      "    c.close()",
    ].join("\n"),
    [path],
  );
  onTestFinished(() => python.kill());
  await python.waitForLine(/^ready$/);
  return python;
}

/** A Python program that binds `path` as a `STREAM` (listening) or `DGRAM` socket and waits. */
export async function pythonBinder(path: string, type: "STREAM" | "DGRAM"): Promise<PythonProcess> {
  const python = runPython(
    [
      "import socket, sys",
      `s = socket.socket(socket.AF_UNIX, socket.SOCK_${type})`,
      "s.bind(sys.argv[1])",
      type === "STREAM" ? "s.listen(1)" : "",
      "print('ready', flush=True)",
      "sys.stdin.read()",
    ].join("\n"),
    [path],
  );
  onTestFinished(() => python.kill());
  await python.waitForLine(/^ready$/);
  return python;
}

/**
 * Leaves a stale socket file at `path` the way a crash does: a Python server
 * binds and listens, then is killed with SIGKILL before it can unlink it.
 */
export async function staleSocketFile(path: string): Promise<void> {
  const python = await pythonBinder(path, "STREAM");
  await python.kill("SIGKILL");
}

/**
 * Connects with a bare `net` socket (not the code under test), sends `data`,
 * half-closes, and returns everything the server sent until it closed.
 */
export async function exchange(path: string, data: string | Uint8Array): Promise<Buffer> {
  const socket = connect({ path, allowHalfOpen: true });
  socket.end(data);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
