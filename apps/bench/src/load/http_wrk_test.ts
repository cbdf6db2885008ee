import { describe, expect, test } from "vitest";
import { parseWrk } from "./http_wrk.ts";

const CLOSE = `Running 2s test @ http://127.0.0.1:42555/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    39.93ms  132.79ms 831.97ms   91.76%
    Req/Sec     6.82k     1.77k    8.56k    88.24%
  11937 requests in 2.00s, 1.59MB read
  Socket errors: connect 0, read 11937, write 0, timeout 0
Requests/sec:   5965.02
Transfer/sec:    815.60KB
`;

describe("parseWrk()", () => {
  test("parseWrk() reads requests, time, bytes and socket errors", () => {
    expect(parseWrk(CLOSE)).toEqual({
      requests: 11937,
      seconds: 2,
      bytes: 1.59 * 1024 * 1024,
      non2xx: 0,
      errors: { connect: 0, read: 11937, write: 0, timeout: 0 },
    });
  });

  test("parseWrk() reads non-2xx answers and millisecond durations", () => {
    const text = "  500 requests in 900.00ms, 20.00KB read\n  Non-2xx or 3xx responses: 7\n";
    expect(parseWrk(text)).toMatchObject({ requests: 500, seconds: 0.9, non2xx: 7 });
  });

  test("parseWrk() refuses output without a summary", () => {
    expect(() => parseWrk("unable to connect to 127.0.0.1:1 Connection refused")).toThrow(
      /Cannot read wrk's output/,
    );
  });
});
