/**
 * Checks the addon this Node would load on this machine, in plain JavaScript
 * with no build step and no test runner, so it also runs under another Node
 * or CPU (an arm64 Node under qemu-aarch64-static):
 *
 *   PREBUILDS_ONLY=1 node scripts/smoke.mjs
 *
 * It loads the binary through node-gyp-build, serves an exact abstract name
 * with net from streamListen's descriptor and has Python connect to it, reaches
 * a Python server with streamConnect, and sends UNIX datagrams through the
 * batched receive. Prints one line per check, exits 1 on the first failure.
 */
import { execFile } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { createServer, Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
const load = require("node-gyp-build");
const file = load.resolve(root);
const addon = load(root);
const name = `socklab-smoke-${process.pid}`;
const ok = (what) => console.log(`ok   ${what}`);

console.log(`node ${process.version} ${process.platform}-${process.arch}: ${file}`);

// 1. A net server on streamListen's descriptor, reached by Python on the exact name.
const fd = addon.streamListen(Buffer.from(`\0${name}-server`), 16);
if (typeof fd !== "number") throw new Error(`streamListen failed: ${JSON.stringify(fd)}`);
const server = createServer((socket) => socket.end("hello from node"));
server.listen({ fd });
await once(server, "listening");
const python = `import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("\\0" + sys.argv[1])
print(s.recv(100).decode())`;
const { stdout: reply } = await promisify(execFile)("python3", ["-c", python, `${name}-server`]);
if (reply.trim() !== "hello from node") throw new Error(`Python got ${JSON.stringify(reply)}`);
server.close();
ok("streamListen: Python reaches net.listen({ fd }) on the exact abstract name");

// 2. streamConnect to a net server the addon bound (exact), wrapped in net.Socket({ fd }).
const fd2 = addon.streamListen(Buffer.from(`\0${name}-echo`), 16);
const echo = createServer((socket) => socket.pipe(socket));
echo.listen({ fd: fd2 });
await once(echo, "listening");
const cfd = addon.streamConnect(Buffer.from(`\0${name}-echo`));
if (typeof cfd !== "number") throw new Error(`streamConnect failed: ${JSON.stringify(cfd)}`);
const client = new Socket({ fd: cfd, readable: true, writable: true });
client.end("echo me");
let echoed = "";
for await (const chunk of client) echoed += chunk;
if (echoed !== "echo me") throw new Error(`echo gave ${JSON.stringify(echoed)}`);
echo.close();
const refused = addon.streamConnect(Buffer.from(`\0${name}-nobody`));
if (refused.syscall !== "connect" || refused.errno >= 0) throw new Error("no connect error");
ok("streamConnect: bytes both ways through net.Socket({ fd }); ECONNREFUSED reported");

// 3. UNIX datagrams: a burst arrives in one batched call.
const meta = new Int32Array(2 * addon.BATCH);
let resolveBatch;
const batch = new Promise((r) => {
  resolveBatch = r;
});
const receiver = addon.socket(
  addon.AF_UNIX,
  addon.SOCK_DGRAM,
  0,
  (count, data) => resolveBatch({ count, data }),
  () => {},
  meta,
);
const sender = addon.socket(
  addon.AF_UNIX,
  addon.SOCK_DGRAM,
  0,
  () => {},
  () => {},
  meta.slice(),
);
if (addon.bind(receiver, `\0${name}-dgram`) !== 0) throw new Error("dgram bind failed");
for (const text of ["one", "two", "three"]) {
  const data = Buffer.from(text);
  const r = addon.sendto(sender, data, 0, data.length, `\0${name}-dgram`);
  if (r !== 0) throw new Error(`sendto: ${r}`);
}
const got = await batch;
if (got.count !== 3 || got.data.toString() !== "onetwothree")
  throw new Error(`batch: ${got.count}`);
addon.close(receiver);
addon.close(sender);
ok("unix datagrams: 3 sent, 3 received in one batched call");
