// The loopback ceiling: a bare Node server that reads and discards everything,
// closing when the client ends. One-way bytes through loopback, nothing echoed.
// Usage: node node_tcp_sink.mjs [port]
import { createServer } from "node:net";

const server = createServer((socket) => {
  socket.on("error", () => {});
  socket.on("end", () => socket.end());
  socket.resume();
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(`listening on tcp://127.0.0.1:${server.address().port}`);
});
process.on("SIGTERM", () => process.exit(0));
