#!/usr/bin/env node
// The consumer test (`npm run test:packages`): packs every public workspace
// package, installs the tarballs together into a new project in a temp
// directory outside the workspace, and runs each package README's example (its
// first ```js block) against a real peer: Python, curl, the command itself.
//
//   node scripts/test_packages.mjs [--no-compiler] [--without <package>] [--keep]
//
// --no-compiler  install and run with a PATH that has no gcc, g++, cc, c++, make
//                or clang (a shim directory of links to everything else)
// --without      leave out a package and every package that depends on it
//                (repeatable; for checking the rest while one cannot install)
// --keep         leave the temp directory for a look afterwards
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const COMPILERS = new Set(["gcc", "g++", "cc", "c++", "make", "gmake", "clang", "clang++"]);
const STEP_MS = 30_000;
const argv = process.argv.slice(2);
const args = new Set();
const without = new Set();
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--without" && argv[i + 1] !== undefined) without.add(argv[++i]);
  else if (argv[i] === "--no-compiler" || argv[i] === "--keep") args.add(argv[i]);
  else fail(`Unknown option "${argv[i]}"`, 2);
}

let work;
let tarballs;
let project;
let env;

// --- the checks: one per package, each against a real peer ------------------

/** @type {Record<string, (example: string) => Promise<string>>} */
const CHECKS = {
  async "@socklab/core"(example) {
    const { stdout } = await run("node", [`${example}.mjs`], { cwd: project, quiet: true });
    expect(stdout.trim() === "udp udp://[::1]:53", `unexpected output ${JSON.stringify(stdout)}`);
    return "parseAddress and formatAddress";
  },

  async "@socklab/tcp-server"(example) {
    const server = start("node", [`${example}.mjs`, "0"]);
    const [, url] = await server.waitFor(/^listening on tcp:\/\/(\S+)/);
    const { stdout } = await run("curl", ["-sS", "-g", `http://${url}/`], { quiet: true });
    expect(stdout.includes("Hallo Welt!"), `curl got ${JSON.stringify(stdout)}`);
    await server.stop();
    return "hello-web answered curl";
  },

  async "@socklab/tcp-client"(example) {
    const py = start("python3", ["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"], {
      cwd: project,
    });
    const [, port] = await py.waitFor(/^Serving HTTP on \S+ port (\d+)/);
    const { stdout } = await run("node", [`${example}.mjs`, port], { cwd: project, quiet: true });
    expect(/^200 \d+ bytes$/.test(stdout.trim()), `unexpected output ${JSON.stringify(stdout)}`);
    await py.kill();
    return "fetchPage from Python's http.server";
  },

  async "@socklab/udp"(example) {
    const server = start("node", [`${example}.mjs`, "0"]);
    const [, port] = await server.waitFor(/^listening on udp:\/\/127\.0\.0\.1:(\d+)/);
    const { stdout } = await run("python3", ["-c", PY_UDP_REQUEST, port], { quiet: true });
    expect(stdout.trim() === "b'Hallo Welt!'", `Python got ${JSON.stringify(stdout)}`);
    await server.waitFor(/^Daten Hallo Welt! von 127\.0\.0\.1 \d+$/);
    await server.stop();
    return "UDP request/reply with Python";
  },

  async "@socklab/unix-stream"(example) {
    const path = join(work, "stream.sock");
    const server = start("node", [`${example}.mjs`, path]);
    await server.waitFor(/^listening on unix:/);
    const { stdout } = await run("python3", ["-c", PY_UNIX_STREAM_ROUND_TRIP, path], {
      quiet: true,
    });
    expect(stdout.trim() === "b'Hallo Welt!'", `Python got ${JSON.stringify(stdout)}`);
    await server.stop();
    expect(!existsSync(path), "the socket file is left behind");
    return "UNIX stream round trip with Python";
  },

  async "@socklab/unix-dgram"(example) {
    const path = join(work, "dgram.sock");
    const server = start("node", [`${example}.mjs`, path]);
    await server.waitFor(/^listening on unixgram:/);
    await run("python3", ["-c", PY_UNIX_DGRAM_SEND, path], { quiet: true });
    await server.waitFor(/^received Hallo Welt!$/);
    expect((await server.exited) === 0, "the example did not exit 0");
    return "datagram from a Python sender";
  },

  async "@socklab/multiplex"(example) {
    const server = start("node", [`${example}.mjs`, "0"]);
    const [, port] = await server.waitFor(/^listening on tcp:\/\/127\.0\.0\.1:(\d+)/);
    const { stdout } = await run("python3", ["-c", PY_TCP_ECHO, port], { quiet: true });
    expect(stdout.trim() === "b'Hallo Welt!\\n'", `Python got ${JSON.stringify(stdout)}`);
    await server.stop();
    return "echo to a Python client";
  },

  async "@socklab/native"(example) {
    const name = `socklab-consumer-${process.pid}`;
    const server = start("node", [`${example}.mjs`, name]);
    await server.waitFor(/^listening on unix:@/);
    const { stdout } = await run("python3", ["-c", PY_ABSTRACT_READ, name], { quiet: true });
    expect(stdout.trim() === "b'Hallo Welt!\\n'", `Python got ${JSON.stringify(stdout)}`);
    await server.stop();
    return "Python reached the exact abstract name (prebuilt addon)";
  },

  async "@socklab/relay"(example) {
    const path = join(work, "relay-target.sock");
    const echo = start("python3", ["-u", "-c", PY_UNIX_ECHO_ONCE, path]);
    await echo.waitFor(/^ready$/);
    const relay = start("node", [`${example}.mjs`, "0", path]);
    const [, port] = await relay.waitFor(/^listening on tcp:\/\/127\.0\.0\.1:(\d+)/);
    const { stdout } = await run("python3", ["-c", PY_TCP_ECHO, port], { quiet: true });
    expect(stdout.trim() === "b'Hallo Welt!\\n'", `Python got ${JSON.stringify(stdout)}`);
    await relay.waitFor(/^closed 12 bytes in, 12 out$/);
    await relay.stop();
    await echo.kill();
    return "TCP client to a Python UNIX echo server through the relay";
  },

  async "@socklab/scan"(example) {
    const py = start("python3", ["-u", "-c", PY_TCP_OPEN_AND_CLOSED]);
    const [, open, closed] = await py.waitFor(/^(\d+) (\d+)$/);
    const { stdout } = await run("node", [`${example}.mjs`, "127.0.0.1", `${open},${closed}`], {
      cwd: project,
      quiet: true,
    });
    expect(
      stdout.trim() === `${open} open\n${closed} closed`,
      `unexpected output ${JSON.stringify(stdout)}`,
    );
    await py.kill();
    return "scanTcp found Python's listener open and a freed port closed";
  },

  async socklab() {
    const { stdout } = await run("npx", ["--no-install", "socklab", "--version"], {
      cwd: project,
      quiet: true,
    });
    expect(/^\d+\.\d+\.\d+/.test(stdout.trim()), `--version printed ${JSON.stringify(stdout)}`);
    const server = start("npx", ["--no-install", "socklab", "tcp-server", "--port", "0"], {
      cwd: project,
    });
    const [, url] = await server.waitFor(/^listening on tcp:\/\/(127\.0\.0\.1:\d+)/);
    const page = await run("curl", ["-sS", `http://${url}/`], { quiet: true });
    expect(page.stdout.includes("Hallo Welt!"), `curl got ${JSON.stringify(page.stdout)}`);
    await server.stop();
    expect(server.stderr() === "", `the command wrote to stderr: ${server.stderr()}`);
    return `npx socklab --version (${stdout.trim()}), tcp-server answered curl`;
  },
};

const PY_UDP_REQUEST = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.sendto(b"Hallo Welt!", ("127.0.0.1", int(sys.argv[1])))
print(s.recvfrom(1024)[0])
`;
const PY_UNIX_STREAM_ROUND_TRIP = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"Hallo Welt!")
s.shutdown(socket.SHUT_WR)
data = b""
while chunk := s.recv(1024):
    data += chunk
print(data)
`;
const PY_UNIX_DGRAM_SEND = `
import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"Hallo Welt!", sys.argv[1])
`;
const PY_ABSTRACT_READ = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect("\\0" + sys.argv[1])
data = b""
while chunk := s.recv(1024):
    data += chunk
print(data)
`;
const PY_UNIX_ECHO_ONCE = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
while chunk := c.recv(65536):
    c.sendall(chunk)
c.close()
`;
const PY_TCP_ECHO = `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"Hallo Welt!\\n")
data = b""
while len(data) < 12 and (chunk := s.recv(1024)):
    data += chunk
print(data)
`;

const PY_TCP_OPEN_AND_CLOSED = `
import signal, socket
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(8)
freed = socket.socket()
freed.bind(("127.0.0.1", 0))
closed = freed.getsockname()[1]
freed.close()
print(listener.getsockname()[1], closed, flush=True)
signal.pause()
`;

async function main() {
  work = await mkdtemp(join(tmpdir(), "socklab-consumer-"));
  tarballs = join(work, "tarballs");
  project = join(work, "project");
  env = { ...process.env, npm_config_audit: "false", npm_config_fund: "false" };
  delete env.npm_config_nodedir; // a user has no headers pointed at
  delete env.CC;
  delete env.CXX;
  if (args.has("--no-compiler")) env.PATH = await pathWithoutCompilers(join(work, "bin"));

  try {
    const packages = await publicWorkspaces();
    await mkdir(tarballs);
    log(`packing ${packages.map((p) => p.name).join(", ")}`);
    const sizes = [];
    for (const p of packages) {
      // prepack builds dist/ (turbo, with the packages it depends on)
      await run("npm", ["pack", "--silent", "--pack-destination", tarballs], {
        cwd: p.dir,
        quiet: true,
      });
    }
    const files = (await readdir(tarballs)).filter((f) => f.endsWith(".tgz")).sort();
    for (const f of files) sizes.push([f, (await stat(join(tarballs, f))).size]);

    await mkdir(project);
    // What a user approves for npm to run install scripts (the native addon). npm
    // matches a registry package by name, a tarball by its path.
    const allowScripts = Object.fromEntries(
      packages
        .filter((p) => p.installs)
        .map((p) => [`file:${join(tarballs, tarballName(p))}`, true]),
    );
    await writeFile(
      join(project, "package.json"),
      `${JSON.stringify({ name: "consumer", private: true, allowScripts }, null, 2)}\n`,
    );
    log(
      `installing ${files.length} tarballs into ${project}${env.PATH === process.env.PATH ? "" : " (no compiler on PATH)"}`,
    );
    await run("npm", ["install", "--prefer-offline", ...files.map((f) => join(tarballs, f))], {
      cwd: project,
    });

    for (const p of packages) {
      const example = await readmeExample(p);
      if (example === undefined && p.bin) continue; // a command: its README shows npx lines
      if (example === undefined) fail(`${p.name}: README.md has no \`\`\`js example`);
      await writeFile(join(project, `${p.short}.mjs`), example);
    }
    for (const p of packages) {
      const check = CHECKS[p.name];
      if (check === undefined) fail(`${p.name}: no consumer check in scripts/test_packages.mjs`);
      const started = performance.now();
      const what = await check(p.short);
      log(
        `ok  ${p.name.padEnd(20)} ${what} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
    log("tarballs:");
    for (const [f, size] of sizes)
      log(`  ${f.padEnd(34)} ${(size / 1000).toFixed(1).padStart(6)} kB`);
  } finally {
    if (args.has("--keep")) log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

// --- helpers -----------------------------------------------------------------

/** Every workspace package that is not private, with its folder and README. */
async function publicWorkspaces() {
  const root = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
  const found = [];
  for (const pattern of root.workspaces) {
    if (!pattern.endsWith("/*")) fail(`Workspace pattern "${pattern}" is not <dir>/*`);
    const parent = join(ROOT, pattern.slice(0, -2));
    for (const name of (await readdir(parent)).sort()) {
      const dir = join(parent, name);
      if (!existsSync(join(dir, "package.json"))) continue;
      const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
      if (pkg.private) continue;
      const { install, preinstall, postinstall } = pkg.scripts ?? {};
      const installs = Boolean(pkg.gypfile || install || preinstall || postinstall);
      const deps = Object.keys(pkg.dependencies ?? {});
      const { version } = pkg;
      found.push({ name: pkg.name, version, short: name, dir, bin: !!pkg.bin, installs, deps });
    }
  }
  // --without: drop the package and, until nothing changes, whatever depends on a dropped one
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of found)
      if (!without.has(p.name) && p.deps.some((d) => without.has(d))) {
        without.add(p.name);
        grew = true;
      }
  }
  if (without.size > 0) log(`without ${[...without].join(", ")}`);
  return found.filter((p) => !without.has(p.name));
}

/** The file name `npm pack` gives a package's tarball. */
function tarballName(p) {
  return `${p.name.replace(/^@/, "").replace("/", "-")}-${p.version}.tgz`;
}

/** The first ```js block of a package's README: the example a user copies. */
async function readmeExample(p) {
  const readme = await readFile(join(p.dir, "README.md"), "utf8");
  return /^```js\n([\s\S]*?)^```$/m.exec(readme)?.[1];
}

/** A PATH of one directory with links to every program on PATH but the compilers. */
async function pathWithoutCompilers(bin) {
  await mkdir(bin);
  const seen = new Set(COMPILERS);
  // node first, so the node that runs this script is the one the consumer gets
  const dirs = [dirname(process.execPath), ...(process.env.PATH ?? "").split(delimiter)];
  for (const dir of dirs) {
    let names;
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (seen.has(name) || /^(x86_64|aarch64)-.*-(gcc|g\+\+|cc|c\+\+)(-\d+)?$/.test(name))
        continue;
      if (/^(gcc|g\+\+|cc|c\+\+|clang|clang\+\+)-\d+$/.test(name)) continue;
      seen.add(name);
      await symlink(join(dir, name), join(bin, name));
    }
  }
  return bin;
}

/** Runs a program to its end; rejects with its output when it fails. */
function run(command, argv, { cwd = ROOT, quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 5 * STEP_MS);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (!quiet && stderr.trim() !== "") process.stderr.write(stderr);
      if (code === 0) resolve({ stdout, stderr });
      else
        reject(
          new Error(
            `${command} ${argv.join(" ")} failed (${code ?? signal}):\n${stderr}${stdout}`.trim(),
          ),
        );
    });
  });
}

/** Starts a long-running program whose stdout lines can be awaited. */
function start(command, argv, { cwd = project } = {}) {
  // its own process group, so a signal reaches npx's child too
  const child = spawn(command, argv, {
    cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const signal = (name) => {
    try {
      process.kill(-child.pid, name);
    } catch {}
  };
  const lines = [];
  const waiters = new Set();
  let stderr = "";
  child.stderr.on("data", (c) => {
    stderr += c;
  });
  const exited = new Promise((resolve) => {
    child.once("close", (code, signal) => {
      for (const w of waiters)
        w.reject(
          new Error(
            `${command} ${argv.join(" ")} ended (${code ?? signal}) before printing ${w.pattern}:\n${stderr}${lines.join("\n")}`,
          ),
        );
      resolve(code ?? signal);
    });
  });
  child.once("error", (e) => fail(`Cannot start ${command}: ${e.message}`));
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const w of waiters) {
      const m = w.pattern.exec(line);
      if (m !== null) {
        waiters.delete(w);
        w.resolve(m);
      }
    }
  });
  const timer = setTimeout(() => signal("SIGKILL"), 5 * STEP_MS);
  exited.then(() => clearTimeout(timer));
  return {
    exited,
    stderr: () => stderr,
    waitFor(pattern) {
      for (const line of lines) {
        const m = pattern.exec(line);
        if (m !== null) return Promise.resolve(m);
      }
      if (child.exitCode !== null || child.signalCode !== null)
        return Promise.reject(new Error(`${command} ended before printing ${pattern}:\n${stderr}`));
      return new Promise((resolve, reject) => {
        const w = { pattern, resolve, reject };
        waiters.add(w);
        setTimeout(() => {
          if (waiters.delete(w))
            reject(
              new Error(
                `${command} ${argv.join(" ")} printed no ${pattern} in ${STEP_MS} ms:\n${stderr}${lines.join("\n")}`,
              ),
            );
        }, STEP_MS).unref();
      });
    },
    /** Ends a peer that has no graceful stop. */
    async kill() {
      signal("SIGKILL");
      await exited;
    },
    /** SIGTERM, then the exit code must be 0: the example stops gracefully (npx itself dies of the signal). */
    async stop() {
      signal("SIGTERM");
      const code = await exited;
      expect(
        code === 0 || (command === "npx" && code === "SIGTERM"),
        `${command} ${argv.join(" ")} exited ${code} after SIGTERM:\n${stderr}`,
      );
    },
  };
}

function expect(ok, message) {
  if (!ok) throw new Error(message);
}

function log(line) {
  console.log(`test:packages: ${line}`);
}

function fail(message, code = 1) {
  console.error(`test:packages: ${message}`);
  process.exit(code);
}

await main();
