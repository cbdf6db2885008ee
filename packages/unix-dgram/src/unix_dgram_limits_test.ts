import { runPython } from "@socklab/core/testing";
import { describe, expect, test } from "vitest";
import { UNIX_DGRAM_RECEIVE_BUFFER, unixDgramSendLimit } from "./unix_dgram_limits.ts";

/** Finds the largest datagram the kernel accepts from a fresh socket, by bisection. */
const MEASURE = `
import socket, os, tempfile
d = tempfile.mkdtemp()
p = os.path.join(d, "r")
r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
r.bind(p)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
lo, hi = 1, 1 << 20
while lo < hi:
    mid = (lo + hi + 1) // 2
    try:
        s.sendto(b"x" * mid, p)
        r.recv(1 << 20)
        lo = mid
    except OSError:
        hi = mid - 1
os.unlink(p)
os.rmdir(d)
print(lo, s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF), flush=True)
`;

describe("unixDgramSendLimit()", () => {
  test("is exactly the largest datagram the kernel accepts (measured with Python)", async () => {
    const python = runPython(MEASURE);
    const [, max, sndbuf] = await python.waitForLine(/^(\d+) (\d+)$/);
    expect(unixDgramSendLimit()).toBe(Number(max));
    expect(unixDgramSendLimit()).toBe(Number(sndbuf) - 32);
  });

  test("UNIX_DGRAM_RECEIVE_BUFFER is the binding's 65,536-byte buffer", () => {
    expect(UNIX_DGRAM_RECEIVE_BUFFER).toBe(65_536);
  });
});
