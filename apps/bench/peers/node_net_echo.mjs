// Bare Node `net` echo: `socket.pipe(socket)`, on TCP or a UNIX socket path.
// Usage: node node_net_echo.mjs tcp [port] | node node_net_echo.mjs unix PATH
import { createServer } from "node:net";

const [kind = "tcp", where = "0"] = process.argv.slice(2);
const server = createServer((socket) => {
  socket.on("error", () => {});
  socket.pipe(socket);
});
server.maxConnections = Number.MAX_SAFE_INTEGER;
const ready = () => {
  const address = server.address();
  console.log(
    typeof address === "string"
      ? `listening on unix:${address}`
      : `listening on tcp://127.0.0.1:${address.port}`,
  );
};
if (kind === "unix") server.listen(where, ready);
else server.listen({ port: Number(where), host: "127.0.0.1", backlog: 1024 }, ready);
process.on("SIGTERM", () => process.exit(0));
