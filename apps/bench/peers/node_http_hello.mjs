// Bare Node `http` serving the tutorial's hello page (listing 3.2's HTML), the
// reference for the hello-web scenarios. Usage: node node_http_hello.mjs [port]
import { createServer } from "node:http";

const html = Buffer.from(
  "<!doctype html><html><head><title>Antwort</title></head><body><h1>Hallo Welt!</h1></body></html>",
);
const server = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": html.length });
  res.end(req.method === "HEAD" ? undefined : html);
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(`listening on tcp://127.0.0.1:${server.address().port}`);
});
process.on("SIGTERM", () => process.exit(0));
