import { describe, expect, test } from "vitest";
import { parseResponseHead } from "./_http_head.ts";

const head = (text: string) => Buffer.from(text, "latin1");

describe("parseResponseHead()", () => {
  test.each([
    [
      "HTTP/1.0 200 OK\r\ncontent-type: text/html\r\n\r\n",
      { version: "1.0", status: 200, reason: "OK", headers: { "content-type": "text/html" } },
    ],
    [
      "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nX-A:  1 \r\nx-a: 2\r\n\r\n",
      {
        version: "1.1",
        status: 404,
        reason: "Not Found",
        headers: { "content-length": "9", "x-a": "1, 2" },
      },
    ],
    ["HTTP/1.1 204\r\n\r\n", { version: "1.1", status: 204, reason: "", headers: {} }],
    [
      "HTTP/1.0 200 Gr\xfc\xdfe\r\n\r\n",
      { version: "1.0", status: 200, reason: "Gr\xfc\xdfe", headers: {} },
    ],
  ])("parseResponseHead(%j)", (text, expected) => {
    expect({ ...parseResponseHead(head(text), "x:1") }).toEqual(expected);
  });

  test.each([
    ["SSH-2.0-OpenSSH_9.6\r\n\r\n", /the status line "SSH-2.0-OpenSSH_9.6" is not/],
    ["HTTP/1.0 2000 OK\r\n\r\n", /is not "HTTP\/x.y code reason"/],
    ["HTTP/1.0 200 OK\r\nno colon here\r\n\r\n", /the header line "no colon here" has no name/],
    ["HTTP/1.0 200 OK\r\n: empty name\r\n\r\n", /has no name/],
  ])("parseResponseHead() rejects %j", (text, message) => {
    expect(() => parseResponseHead(head(text), "127.0.0.1:80")).toThrow(message);
    try {
      parseResponseHead(head(text), "127.0.0.1:80");
    } catch (err) {
      expect(err).toMatchObject({ code: "ERR_SOCKLAB_BAD_RESPONSE" });
      expect((err as Error).message).toMatch(
        /^Cannot read the HTTP response from "127\.0\.0\.1:80": /,
      );
    }
  });
});
