import { lstatSync } from "node:fs";
import { createConnection, createServer, Server } from "node:net";
import { join } from "node:path";
import { describe, expect, onTestFinished, test } from "vitest";
import { bindSocketFile, listenStream, setAbstractStreamBinder } from "./server_socket.ts";
import { testDir } from "./testing.ts";

describe("socket files are born with their mode, under umask 000", () => {
  test("listenStream(): the file is 0600 the moment the server listens, before any chmod", async () => {
    const path = join(await testDir("socklab-born"), "s.sock");
    const previous = process.umask(0);
    onTestFinished(() => void process.umask(previous));
    const server = createServer();
    let bornWith = -1;
    // "listening" fires before listenStream() resumes to check (and chmod) the file.
    server.once("listening", () => {
      bornWith = lstatSync(path).mode & 0o777;
    });
    const listener = await listenStream(server, { path, mode: 0o600 });
    onTestFinished(() => void listener.stop());
    expect(bornWith).toBe(0o600);
    expect(process.umask(0)).toBe(0); // the umask is back to what it was
  });

  test("bindSocketFile(): the file is 0660 right after the bind call", async () => {
    const dir = await testDir("socklab-born");
    const path = join(dir, "d.sock");
    const previous = process.umask(0);
    onTestFinished(() => void process.umask(previous));
    let bornWith = -1;
    const holder = createServer();
    const { file } = await bindSocketFile(path, 0o660, () => {
      holder.listen(path); // any synchronous bind will do
      bornWith = lstatSync(path).mode & 0o777;
    });
    onTestFinished(async () => {
      await file.remove();
      holder.close();
    });
    expect(bornWith).toBe(0o660);
  });
});

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
