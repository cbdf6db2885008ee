import { createConnection, createServer, Server } from "node:net";
import { describe, expect, onTestFinished, test } from "vitest";
import { listenStream, setAbstractStreamBinder } from "./server_socket.ts";

describe("listenStream()", () => {
  test("a TCP listener on port 0 is labelled with the port it got", async () => {
    const server = createServer();
    const listener = await listenStream(server, { host: "127.0.0.1", port: 0 });
    onTestFinished(() => void listener.stop());
    const { port } = server.address() as { port: number };
    expect(listener.label).toBe(`127.0.0.1:${port}`);
    expect(listener.file).toBeUndefined();
  });

  test("a taken port is one line with the address", async () => {
    const first = createServer();
    const taken = await listenStream(first, { host: "127.0.0.1", port: 0 });
    onTestFinished(() => void taken.stop());
    const { port } = first.address() as { port: number };
    await expect(listenStream(new Server(), { host: "127.0.0.1", port })).rejects.toThrow(
      `Cannot bind "127.0.0.1:${port}": address already in use`,
    );
  });

  test("abstract names bind through the one seam, setAbstractStreamBinder()", async () => {
    const calls: [string, number][] = [];
    setAbstractStreamBinder((name, backlog) => {
      calls.push([name, backlog]);
      throw Object.assign(new Error("no native binder here"), { code: "EOPNOTSUPP" });
    });
    onTestFinished(() => setAbstractStreamBinder(undefined));
    await expect(
      listenStream(new Server(), { path: "socklab-seam", abstract: true, backlog: 7 }),
    ).rejects.toMatchObject({ code: "EOPNOTSUPP" });
    expect(calls).toEqual([["socklab-seam", 7]]);
  });

  test("without a binder, abstract names bind with Node's own listen", async () => {
    const name = `socklab-abstract-${process.pid}-${Date.now()}`;
    const server = createServer((socket) => socket.end("hi\n"));
    const listener = await listenStream(server, { path: name, abstract: true });
    onTestFinished(() => void listener.stop());
    expect(listener.label).toBe(`@${name}`);
    let text = "";
    for await (const chunk of createConnection(`\0${name}`)) text += chunk;
    expect(text).toBe("hi\n");
  });
});
