import { once } from "node:events";
import { createConnection, createServer, type Socket } from "node:net";
import fc from "fast-check";
import { describe, expect, onTestFinished, test } from "vitest";
import { cutAt } from "./_test_arbitraries.ts";
import { decode, encode } from "./encoding.ts";
import { LimitExceededError } from "./errors.ts";
import { LineSplitter, type LineSplitterOptions } from "./line_splitter.ts";
import { StreamDecoder } from "./stream_decoder.ts";

/** Pushes every chunk and ends; lines as latin1 strings, the rest last (or `null`). */
function run(
  splitter: LineSplitter,
  chunks: Uint8Array[],
): { lines: string[]; rest: string | null } {
  const lines: string[] = [];
  for (const chunk of chunks)
    for (const line of splitter.push(chunk)) lines.push(line.toString("latin1"));
  const rest = splitter.end();
  return { lines, rest: rest === undefined ? null : rest.toString("latin1") };
}

const text = (s: string) => Buffer.from(s, "latin1");

describe("LineSplitter", () => {
  test("LineSplitter splits the tutorial's browser request as split('\\r\\n') does", () => {
    const request =
      "GET / HTTP/1.1\r\nHost: 127.0.0.1:50000\r\nAccept-Encoding: gzip, deflate\r\nDNT: 1\r\n" +
      "Connection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\n\r\n";
    const python = request.split("\r\n"); // [..., "", ""]: the last "" is what follows the final CRLF
    expect(run(new LineSplitter(), [text(request)])).toEqual({
      lines: python.slice(0, -1),
      rest: null,
    });
  });

  test("LineSplitter follows the documented example", () => {
    const splitter = new LineSplitter();
    expect(splitter.push(text("GET / HTTP/1.1\r\nHost: 127.0.0.1:50000\r")).map(String)).toEqual([
      "GET / HTTP/1.1",
    ]);
    expect(splitter.push(text("\n\r\nrest")).map(String)).toEqual(["Host: 127.0.0.1:50000", ""]);
    expect(String(splitter.end())).toBe("rest");
    expect(splitter.end()).toBeUndefined();
  });

  test("LineSplitter takes a CR at the end of one chunk and an LF at the start of the next as one CRLF", () => {
    expect(run(new LineSplitter(), [text("a\r"), text("\nb\r"), text("\n")])).toEqual({
      lines: ["a", "b"],
      rest: null,
    });
    expect(run(new LineSplitter({ keepEnds: true }), [text("a\r"), text("\n")])).toEqual({
      lines: ["a\r\n"],
      rest: null,
    });
  });

  test("LineSplitter keeps a CR that is not followed by LF", () => {
    expect(run(new LineSplitter(), [text("a\rb\n\r"), text("c\r")])).toEqual({
      lines: ["a\rb"],
      rest: "\rc\r",
    });
  });

  test("LineSplitter with keepEnds keeps LF and CRLF", () => {
    const splitter = new LineSplitter({ keepEnds: true });
    expect(splitter.push(text("a\nb\r\nc")).map(String)).toEqual(["a\n", "b\r\n"]);
    expect(String(splitter.end())).toBe("c");
  });

  test("LineSplitter never cuts a UTF-8 character split between chunks", () => {
    const bytes = encode("Grüße\r\n€uro\n");
    const chunks = [...bytes].map((b) => Uint8Array.of(b));
    const splitter = new LineSplitter();
    const lines = chunks.flatMap((chunk) => splitter.push(chunk)).map((line) => decode(line));
    expect(lines).toEqual(["Grüße", "€uro"]);
  });

  test("LineSplitter accepts a line of exactly maxLineLength bytes, even with its CR held back", () => {
    const splitter = new LineSplitter({ maxLineLength: 4 });
    expect(splitter.push(text("abcd\r")).map(String)).toEqual([]);
    expect(splitter.push(text("\nefgh\n")).map(String)).toEqual(["abcd", "efgh"]);
  });

  test("LineSplitter throws LimitExceededError as soon as the line is too long", () => {
    const splitter = new LineSplitter({ maxLineLength: 4 });
    for (const b of text("abcd")) expect(splitter.push(Uint8Array.of(b))).toEqual([]);
    let caught: unknown;
    try {
      splitter.push(text("e"));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(LimitExceededError);
    expect(caught).toMatchObject({
      code: "ERR_SOCKLAB_LIMIT_EXCEEDED",
      limit: 4,
      message: "Cannot read a line longer than 4 bytes",
    });
    // And it stays failed.
    expect(() => splitter.push(text("\n"))).toThrow(caught as Error);
    expect(() => splitter.end()).toThrow(caught as Error);
  });

  test("LineSplitter refuses a CR after maxLineLength bytes once the next byte is not LF", () => {
    const splitter = new LineSplitter({ maxLineLength: 4 });
    splitter.push(text("abcd\r"));
    expect(() => splitter.push(text("x"))).toThrow(LimitExceededError);
    const ending = new LineSplitter({ maxLineLength: 4 });
    ending.push(text("abcd\r"));
    expect(() => ending.end()).toThrow(LimitExceededError);
  });

  test("LineSplitter refuses a too long line that arrives whole in one chunk", () => {
    expect(() => new LineSplitter({ maxLineLength: 2 }).push(text("ok\nabc\n"))).toThrow(
      LimitExceededError,
    );
  });

  test("LineSplitter rejects a maxLineLength that is not a positive integer", () => {
    for (const maxLineLength of [0, -1, 1.5, Number.POSITIVE_INFINITY]) {
      expect(() => new LineSplitter({ maxLineLength })).toThrow(
        expect.objectContaining({ code: "ERR_SOCKLAB_INVALID_OPTION" }),
      );
    }
  });

  test("LineSplitter keeps no reference to a chunk the caller reuses", () => {
    const splitter = new LineSplitter();
    const buffer = text("ab");
    splitter.push(buffer);
    buffer.set(text("c\n"));
    expect(splitter.push(buffer).map(String)).toEqual(["abc"]);
  });

  test("LineSplitter reads a 1 MB line arriving in 20 000 chunks without rescanning", () => {
    const splitter = new LineSplitter({ maxLineLength: 2_000_000 });
    const chunk = Buffer.alloc(50, 0x61);
    const started = performance.now();
    let early = 0;
    for (let i = 0; i < 20_000; i++) early += splitter.push(chunk).length;
    expect(early).toBe(0);
    const [line] = splitter.push(text("\r\n"));
    expect(line?.length).toBe(1_000_000);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  test("LineSplitter gives the same lines however the input is split", () => {
    const input = fc
      .uint8Array({ maxLength: 40 })
      .map((a) => a.map((b) => [0x61, 0x0d, 0x0a, 0x62][b % 4]!));
    const options = fc.record({
      maxLineLength: fc.integer({ min: 1, max: 8 }),
      keepEnds: fc.boolean(),
    });
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 8 }), options, (bytes, points, opts) => {
        const model = modelSplit(bytes, opts);
        const lines: string[] = [];
        const splitter = new LineSplitter(opts);
        let rest: string | null = null;
        let failed = false;
        try {
          for (const chunk of cutAt(bytes, points))
            for (const line of splitter.push(chunk)) lines.push(line.toString("latin1"));
          const end = splitter.end();
          rest = end === undefined ? null : end.toString("latin1");
        } catch (err) {
          expect(err).toBeInstanceOf(LimitExceededError);
          failed = true;
        }
        expect(failed).toBe(model === "too long");
        if (model === "too long") return;
        expect({ lines, rest }).toEqual(model);
      }),
    );
  });

  test("LineSplitter and StreamDecoder read multi-byte text sent one byte per write over TCP", async () => {
    const message = "Grüße aus Köln\r\n€ 20\nпривет, 世界 😀\r\nohne Ende";
    const server = createServer((socket) => void sendByteByByte(socket, encode(message)));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as { port: number };

    const client = createConnection({ host: "127.0.0.1", port });
    onTestFinished(() => void client.destroy());
    const splitter = new LineSplitter();
    const decoder = new StreamDecoder();
    const lines: string[] = [];
    let decoded = "";
    let chunks = 0;
    client.on("data", (chunk: Buffer) => {
      chunks++;
      decoded += decoder.push(chunk);
      for (const line of splitter.push(chunk)) lines.push(decode(line));
    });
    await once(client, "end");
    decoded += decoder.end();
    const rest = splitter.end();

    expect(chunks).toBeGreaterThan(0);
    expect(decoded).toBe(message);
    expect(lines).toEqual(["Grüße aus Köln", "€ 20", "привет, 世界 😀"]);
    expect(rest && decode(rest)).toBe("ohne Ende");
  });
});

async function sendByteByByte(socket: Socket, bytes: Uint8Array): Promise<void> {
  socket.setNoDelay(true);
  for (const b of bytes) {
    await new Promise<void>((resolve, reject) =>
      socket.write(Uint8Array.of(b), (err) => (err ? reject(err) : resolve())),
    );
  }
  socket.end();
}

/** The lines of the whole input, split with a regular expression, or "too long". */
function modelSplit(
  bytes: Uint8Array,
  { maxLineLength = 8192, keepEnds = false }: LineSplitterOptions,
): { lines: string[]; rest: string | null } | "too long" {
  const all = Buffer.from(bytes).toString("latin1");
  const pieces = all.split(/(?<=\n)/);
  const last = pieces.at(-1);
  const rest = last !== undefined && !last.endsWith("\n") ? pieces.pop() || null : null;
  const lines = pieces.map((piece) => {
    const content = piece.replace(/\r?\n$/, "");
    if (content.length > maxLineLength) return null;
    return keepEnds ? piece : content;
  });
  if (lines.includes(null) || (rest !== null && rest.length > maxLineLength)) return "too long";
  return { lines: lines as string[], rest };
}
