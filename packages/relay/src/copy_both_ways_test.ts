import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { PassThrough } from "node:stream";
import { parseAddress } from "@socklab/core";
import { closeAfterTest, testDir } from "@socklab/core/testing";
import { describe, expect, test } from "vitest";
import { collect, socketPair } from "./_test_pairs.ts";
import { type CopyDirection, copyBothWays } from "./copy_both_ways.ts";
import { connectStream, listenStream } from "./stream_address.ts";
import { connectionEnd, stdioEnd } from "./stream_ends.ts";

describe("copyBothWays()", () => {
  test("copyBothWays() copies both ways, passes each half-close on and counts bytes", async () => {
    const left = await socketPair();
    const right = await socketPair();
    const copy = copyBothWays(connectionEnd(left.ours, "left"), connectionEnd(right.ours, "right"));
    const toRight = randomBytes(3_000_000);
    const toLeft = randomBytes(2_000_000);
    const rightGot = collect(right.theirs);
    const leftGot = collect(left.theirs);
    left.theirs.end(toRight);
    // The right side answers only after the left side's half-close has reached it.
    expect((await rightGot).equals(toRight)).toBe(true);
    right.theirs.end(toLeft);
    expect((await leftGot).equals(toLeft)).toBe(true);
    expect(await copy.done).toEqual({ aToB: 3_000_000, bToA: 2_000_000 });
  });

  test("copyBothWays() with halfClose false for one direction keeps that receiver open", async () => {
    const left = await socketPair();
    const right = await socketPair();
    const copy = copyBothWays(
      connectionEnd(left.ours, "left"),
      connectionEnd(right.ours, "right"),
      {
        halfClose: { aToB: false },
      },
    );
    let rightEnded = false;
    right.theirs.on("end", () => {
      rightEnded = true;
    });
    const rightData = once(right.theirs, "data");
    left.theirs.end("no FIN after this");
    expect(String((await rightData)[0])).toBe("no FIN after this");
    await copy.finished.aToB;
    expect(rightEnded).toBe(false);
    right.theirs.end();
    await copy.done;
  });

  test("copyBothWays() onChunk sees every chunk with its offset", async () => {
    const left = await socketPair();
    const right = await socketPair();
    const seen: [CopyDirection, number, number][] = [];
    const copy = copyBothWays(
      connectionEnd(left.ours, "left"),
      connectionEnd(right.ours, "right"),
      {
        onChunk: (direction, chunk, offset) => seen.push([direction, chunk.length, offset]),
      },
    );
    right.theirs.resume();
    left.theirs.end(randomBytes(500_000));
    right.theirs.end();
    await copy.done;
    let offset = 0;
    for (const [direction, length, at] of seen) {
      expect(direction).toBe("aToB");
      expect(at).toBe(offset);
      offset += length;
    }
    expect(offset).toBe(500_000);
  });

  test("copyBothWays() rejects done with a reset and destroys the other end", async () => {
    const left = await socketPair();
    const right = await socketPair();
    const copy = copyBothWays(connectionEnd(left.ours, "left"), connectionEnd(right.ours, "right"));
    const leftEnded = once(left.theirs, "end");
    left.theirs.on("error", () => {});
    left.theirs.resume();
    right.theirs.resetAndDestroy();
    await expect(copy.done).rejects.toMatchObject({ code: "ECONNRESET" });
    await leftEnded;
  });

  test("copyBothWays() waits for a receiver that does not read instead of buffering (backpressure)", async () => {
    const left = await socketPair();
    const right = await socketPair();
    right.theirs.pause();
    const copy = copyBothWays(connectionEnd(left.ours, "left"), connectionEnd(right.ours, "right"));
    // The sending side stops being read once the copy waits for the receiver: then let it read.
    const stalled = once(left.ours.socket, "pause").then(() => ({
      copied: copy.counts.aToB,
      buffered: left.ours.bufferedBytes,
      queued: right.ours.socket.writableLength,
    }));
    const total = 64 * 1024 * 1024;
    left.theirs.end(randomBytes(total));
    const atStall = await stalled;
    const received = collect(right.theirs);
    right.theirs.resume();
    expect((await received).length).toBe(total);
    right.theirs.end();
    await copy.done;
    // What was held at the stall is the read-ahead (1 MiB) and one write queue, not the stream.
    expect(atStall.copied).toBeLessThan(total);
    expect(atStall.buffered + atStall.queued).toBeLessThan(3 * 1024 * 1024);
  });

  test("stdioEnd() copies a stream into a connection and the answer out, leaving the input usable", async () => {
    const dir = await testDir("relay");
    const address = parseAddress(`unix://${dir}/s`);
    const listener = await listenStream(address, async (conn) => {
      const all = await conn.readToEnd();
      await conn.end(`got ${all.length}\n`);
    });
    closeAfterTest(listener);
    const input = new PassThrough();
    const output = new PassThrough();
    const conn = await connectStream(address);
    const copy = copyBothWays(stdioEnd({ input, output }), connectionEnd(conn, "unix"));
    input.end("twelve bytes");
    const answer: Buffer[] = [];
    output.on("data", (chunk: Buffer) => answer.push(chunk));
    expect(await copy.done).toEqual({ aToB: 12, bToA: 7 });
    expect(Buffer.concat(answer).toString()).toBe("got 12\n");
  });
});
