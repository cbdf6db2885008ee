import { PassThrough } from "node:stream";
import { testDir } from "@socklab/core/testing";
import { describe, expect, test } from "vitest";
import { runCli } from "./_test_cli.ts";
import { COMMANDS, loadCommand, main } from "./cli.ts";
import { type Command, defineCommand, type OptionSpecs } from "./command.ts";
import { integer } from "./options.ts";
import { runCommand } from "./run_command.ts";

function capture() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  const waiting: [string, () => void][] = [];
  stdout.on("data", (c) => {
    out += c;
    for (const [text, resolve] of waiting) if (out.includes(text)) resolve();
  });
  stderr.on("data", (c) => (err += c));
  const waitFor = (text: string) =>
    new Promise<void>((resolve) =>
      out.includes(text) ? resolve() : waiting.push([text, resolve]),
    );
  return { stdout, stderr, out: () => out, err: () => err, waitFor };
}

const demo = defineCommand({
  name: "demo",
  summary: "A command for the frame's tests",
  usage: "[options]",
  examples: ["socklab demo --count 2"],
  options: {
    count: {
      type: "string",
      description: "How many",
      default: "1",
      parse: integer("count", 1, 10),
    },
  },
  async run({ values, out, signal }) {
    out.event("tick", { count: values.count }, `count ${values.count}`);
    if (values.count === 7) throw new Error("a bug");
    if (values.count === 9) {
      out.listening(["tcp://127.0.0.1:1"]);
      await new Promise((resolve) => signal.addEventListener("abort", resolve));
      out.line("stopped");
    }
    return 0;
  },
});

describe("the command frame", () => {
  test("parses and converts options", async () => {
    const io = capture();
    expect(await runCommand(demo, ["--count", "3"], io)).toBe(0);
    expect(io.out()).toBe("count 3\n");
  });
  test("--json prints one object per event", async () => {
    const io = capture();
    await runCommand(demo, ["--json"], io);
    expect(JSON.parse(io.out())).toMatchObject({ event: "tick", count: 1 });
  });
  test("--quiet drops event lines", async () => {
    const io = capture();
    await runCommand(demo, ["-q"], io);
    expect(io.out()).toBe("");
  });
  test("a bad option value is a usage error with exit code 2", async () => {
    const io = capture();
    expect(await runCommand(demo, ["--count", "11"], io)).toBe(2);
    expect(io.err()).toBe(
      'socklab demo: Cannot use --count "11": expected a whole number from 1 to 10\nRun "socklab demo --help" for usage.\n',
    );
  });
  test("an unknown option is a usage error with exit code 2", async () => {
    const io = capture();
    expect(await runCommand(demo, ["--nope"], io)).toBe(2);
    expect(io.err()).toMatch(/^socklab demo: Unknown option '--nope'/);
  });
  test("a bug prints a stack and exits 1", async () => {
    const io = capture();
    expect(await runCommand(demo, ["--count", "7"], io)).toBe(1);
    expect(io.err()).toMatch(
      /^socklab demo: unexpected error \(a bug; please report it\)\nError: a bug\n\s+at /,
    );
  });
  test("the stop signal ends a server with exit code 0", async () => {
    const io = capture();
    const controller = new AbortController();
    const running = runCommand(demo, ["--count", "9"], {
      stdout: io.stdout,
      stderr: io.stderr,
      signal: controller.signal,
    });
    await io.waitFor("listening on");
    controller.abort();
    expect(await running).toBe(0);
    expect(io.out()).toBe("count 9\nlistening on tcp://127.0.0.1:1\nstopped\n");
  });
  test("--help shows options, defaults and examples", async () => {
    const io = capture();
    expect(await runCommand(demo, ["--help"], io)).toBe(0);
    expect(io.out()).toContain("--count VALUE");
    expect(io.out()).toContain("(default: 1)");
    expect(io.out()).toContain("socklab demo --count 2");
  });
});

describe("socklab", () => {
  test("lists every command", async () => {
    const io = capture();
    expect(await main(["--help"], io)).toBe(0);
    for (const c of COMMANDS) expect(io.out()).toContain(c.name);
  });
  test("an unknown command exits 2", async () => {
    const io = capture();
    expect(await main(["nope"], io)).toBe(2);
    expect(io.err()).toBe(
      'socklab: unknown command "nope"\nRun "socklab --help" for the list of commands.\n',
    );
  });
  test("--version prints the version as a real process", async () => {
    const r = await runCli(["--version"]);
    expect(r).toMatchObject({ code: 0, stdout: "0.1.0\n", stderr: "" });
  });
});

/**
 * Options that keep a command harmless should it run after all: port 0 on
 * loopback, UNIX paths in a fresh temp dir (the tests also pass a stop signal
 * that has fired already).
 */
async function harmless(command: Command<OptionSpecs>): Promise<string[]> {
  const args: string[] = [];
  const options = command.options;
  if ("host" in options) args.push("--host", "127.0.0.1");
  if ("port" in options) args.push("--port", command.name.endsWith("client") ? "9" : "0");
  for (const name of ["path", "unix-path", "unixgram-path"]) {
    if (name in options && command.name !== "tcp-client") {
      args.push(`--${name}`, `${await testDir("socklab-frame")}/${name}`);
    }
  }
  return args;
}

const ENTRIES = COMMANDS.map((c) => [c.name, c] as const);
const TWO_ARGUMENTS: readonly string[] = ["connect", "listen", "relay"];

describe("every command", () => {
  test.each(ENTRIES)("%s refuses a stray argument: one line, exit code 2", async (name, entry) => {
    const command = await loadCommand(entry);
    const io = capture();
    // connect, listen and relay take two addresses (or a host and a port): the third is stray.
    const first =
      name === "address"
        ? ["tcp://localhost:1"]
        : TWO_ARGUMENTS.includes(name)
          ? ["127.0.0.1", "80"]
          : [];
    const args = [...first, "8080", ...(await harmless(command))];
    const code = await runCommand(command, args, { ...io, signal: AbortSignal.abort() });
    expect(code).toBe(2);
    expect(io.out()).toBe("");
    const takes =
      name === "address"
        ? "at most 1 argument"
        : TWO_ARGUMENTS.includes(name)
          ? "at most 2 arguments"
          : "options only";
    const hint = "port" in command.options ? " (did you mean --port 8080?)" : "";
    expect(io.err()).toBe(
      `socklab ${name}: Cannot use "8080": ${name} takes ${takes}${hint}\nRun "socklab ${name} --help" for usage.\n`,
    );
  });

  // lab's --unix-path "" means "no UNIX stream socket".
  const withPath = ENTRIES.filter(([name]) => name !== "lab");
  test.each(withPath)("%s refuses an empty --path with exit code 2", async (name, entry) => {
    const command = await loadCommand(entry);
    if (!("path" in command.options)) return;
    const io = capture();
    const args = [...(await harmless(command)), "--path", ""];
    expect(await runCommand(command, args, { ...io, signal: AbortSignal.abort() })).toBe(2);
    expect(io.err()).toMatch(
      new RegExp(`^socklab ${name}: .+\\nRun "socklab ${name} --help" for usage\\.\\n$`),
    );
  });

  test("socklab tcp-server 8080, as a real process, exits 2 instead of listening on port 50000", async () => {
    const r = await runCli(["tcp-server", "8080"]);
    expect(r).toEqual({
      code: 2,
      signal: null,
      stdout: "",
      stderr:
        'socklab tcp-server: Cannot use "8080": tcp-server takes options only (did you mean --port 8080?)\nRun "socklab tcp-server --help" for usage.\n',
    });
  });
});
