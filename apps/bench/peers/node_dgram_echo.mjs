// Bare Node `dgram` echo: every datagram goes back to its sender.
// Usage: node node_dgram_echo.mjs [port]
import { createSocket } from "node:dgram";

const socket = createSocket("udp4");
socket.on("message", (message, from) => socket.send(message, from.port, from.address));
socket.bind(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(`listening on udp://127.0.0.1:${socket.address().port}`);
});
process.on("SIGTERM", () => process.exit(0));
