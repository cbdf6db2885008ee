/**
 * Test fixtures for this package: Python peers on abstract names, unique
 * names, and tests that need a tool.
 *
 * @module
 */
import { type PythonProcess, runPython } from "@socklab/core/testing";
import { onTestFinished } from "vitest";

let counter = 0;

/** A fresh abstract name for one test (no `@`, no NUL). */
export function uniqueName(label: string): string {
  return `socklab-native-${label}-${process.pid}-${Date.now()}-${counter++}`;
}

/**
 * A Python server on the abstract name `name`, bound the usual way
 * (`bind("\0name")`, the exact length): it answers each client with
 * `python got: ` and what the client sent until it half-closed. Killed after the test.
 */
export async function pythonAbstractServer(name: string, backlog = 16): Promise<PythonProcess> {
  const python = runPython(
    [
      "import socket, sys",
      "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
      "s.bind('\\0' + sys.argv[1])",
      `s.listen(${backlog})`,
      "print('ready', flush=True)",
      "if sys.argv[2] == 'accept':",
      "    while True:",
      "        c, _ = s.accept()",
      "        data = b''",
      "        while True:",
      "            chunk = c.recv(65536)",
      "            if not chunk: break",
      "            data += chunk",
      "        c.sendall(b'python got: ' + data)",
      "        c.close()",
      "else:",
      "    sys.stdin.read()",
    ].join("\n"),
    [name, backlog === 0 ? "hold" : "accept"],
  );
  onTestFinished(() => python.kill());
  await python.waitForLine(/^ready$/);
  return python;
}

/**
 * A Python client that connects to the abstract name `name` exactly, sends
 * `message`, half-closes and prints what it got back (`repr`).
 */
export async function pythonAbstractClient(name: string, message: string): Promise<string> {
  const python = runPython(
    [
      "import socket, sys",
      "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
      "s.settimeout(10)",
      "s.connect('\\0' + sys.argv[1])",
      "s.sendall(sys.argv[2].encode())",
      "s.shutdown(socket.SHUT_WR)",
      "data = b''",
      "while True:",
      "    chunk = s.recv(65536)",
      "    if not chunk: break",
      "    data += chunk",
      "print(repr(data), flush=True)",
    ].join("\n"),
    [name, message],
  );
  onTestFinished(() => python.kill());
  const code = await python.exited;
  if (code !== 0) throw new Error(`python3 client failed (${code}): ${python.stderr().trim()}`);
  return python.lines.join("\n");
}
