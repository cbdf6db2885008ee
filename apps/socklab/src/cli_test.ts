import { PassThrough } from "node:stream";
import { testDir } from "@socklab/core/testing";
import { describe, expect, test } from "vitest";
import { runCli } from "./_test_cli.ts";
import { COMMANDS, loadCommand, main } from "./cli.ts";
import { type Command, defineCommand, type OptionSpecs } from "./command.ts";
import { DURATION_HELP, durationOption, integer } from "./options.ts";
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
    expect(io.err()).toBe(
      'socklab demo: Unknown option "--nope"\nRun "socklab demo --help" for usage.\n',
    );
  });
  test("a misspelt option names the nearest one", async () => {
    const io = capture();
    expect(await runCommand(demo, ["--cuont", "2"], io)).toBe(2);
    expect(io.err()).toBe(
      'socklab demo: Unknown option "--cuont": did you mean --count?\nRun "socklab demo --help" for usage.\n',
    );
  });
  test("an option without its value says so", async () => {
    const io = capture();
    expect(await runCommand(demo, ["--count"], io)).toBe(2);
    expect(io.err()).toBe(
      'socklab demo: Cannot use --count without a value\nRun "socklab demo --help" for usage.\n',
    );
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
      'socklab: Unknown command "nope"\nRun "socklab --help" for the list of commands.\n',
    );
  });
  test.each([
    ["tcp-sever", "tcp-server"],
    ["udpclient", "udp-client"],
    ["unix-stream-clinet", "unix-stream-client"],
    ["multiplx", "multiplex"],
    ["conect", "connect"],
  ])("a misspelt command %s names %s", async (typed, meant) => {
    const io = capture();
    expect(await main([typed], io)).toBe(2);
    expect(io.err()).toBe(
      `socklab: Unknown command "${typed}": did you mean ${meant}?\nRun "socklab --help" for the list of commands.\n`,
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

/** As many valid positional arguments as a command takes; one more is the stray. */
const VALID_POSITIONALS: Record<string, string[]> = {
  address: ["tcp://localhost:1"],
  connect: ["127.0.0.1", "9"],
  listen: ["127.0.0.1", "0"],
  relay: ["tcp://127.0.0.1:0", "tcp://127.0.0.1:9"],
  scan: ["127.0.0.1", "80"],
};

describe("every command", () => {
  test.each(ENTRIES)("%s refuses a stray argument: one line, exit code 2", async (name, entry) => {
    const command = await loadCommand(entry);
    const io = capture();
    const first = VALID_POSITIONALS[name] ?? [];
    const args = [...first, "8080", ...(await harmless(command))];
    const code = await runCommand(command, args, { ...io, signal: AbortSignal.abort() });
    expect(code).toBe(2);
    expect(io.out()).toBe("");
    const max = command.maxPositionals ?? 0;
    expect(first).toHaveLength(max);
    const takes = max === 0 ? "options only" : `at most ${max} argument${max === 1 ? "" : "s"}`;
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

  test.each(ENTRIES)("%s: a misspelt option names the nearest one", async (name, entry) => {
    const command = await loadCommand(entry);
    const option = Object.keys(command.options).find((o) => o.length >= 4) ?? "json";
    const typo = `${option.slice(0, -2)}${option.at(-1)}${option.at(-2)}`;
    const io = capture();
    const code = await runCommand(command, [`--${typo}`], { ...io, signal: AbortSignal.abort() });
    expect(code).toBe(2);
    expect(io.err()).toBe(
      `socklab ${name}: Unknown option "--${typo}": did you mean --${option}?\nRun "socklab ${name} --help" for usage.\n`,
    );
  });

  test.each(ENTRIES)("%s: an unknown option far from all gets no guess", async (name, entry) => {
    const command = await loadCommand(entry);
    const io = capture();
    const code = await runCommand(command, ["--zzzzzzzz"], { ...io, signal: AbortSignal.abort() });
    expect(code).toBe(2);
    const advice =
      (command.maxPositionals ?? 0) > 0
        ? ' (an argument starting with "-" goes after "--": -- "--zzzzzzzz")'
        : "";
    expect(io.err()).toBe(
      `socklab ${name}: Unknown option "--zzzzzzzz"${advice}\nRun "socklab ${name} --help" for usage.\n`,
    );
  });

  const PORTS = ENTRIES.flatMap(([name, entry]) =>
    ["-1", "70000"].map((port) => [name, port, entry] as const),
  );
  test.each(PORTS)("%s --port %s: the port must be 0-65535", async (name, port, entry) => {
    const command = await loadCommand(entry);
    if (!("port" in command.options)) return;
    const io = capture();
    const args = [...(await harmless(command)), "--port", port];
    expect(await runCommand(command, args, { ...io, signal: AbortSignal.abort() })).toBe(2);
    expect(io.err()).toBe(
      `socklab ${name}: Cannot use --port "${port}": the port must be 0-65535\nRun "socklab ${name} --help" for usage.\n`,
    );
  });

  test("durationOption() says the rule in its help line", () => {
    const option = durationOption("timeout", "Give up after this long", { default: "10" });
    expect(option.description).toBe(`Give up after this long (${DURATION_HELP})`);
    expect(option.parse("1")).toBe(1000);
  });

  test.each(ENTRIES)(
    "%s: every duration takes seconds or a unit, and says so",
    async (name, entry) => {
      const command = await loadCommand(entry);
      const durations = Object.entries(command.options).filter(
        ([, spec]) => spec.valueName === "DURATION",
      );
      for (const [option, spec] of durations) {
        // connect, listen and relay build their options in their own files, not all with the line yet.
        if (!["connect", "listen", "relay"].includes(name)) {
          expect(spec.description, option).toContain(DURATION_HELP);
        }
        expect(spec.parse!("2"), option).toBe(2000);
        expect(spec.parse!("1.5"), option).toBe(1500);
        expect(spec.parse!("500ms"), option).toBe(500);
        expect(spec.parse!("1m"), option).toBe(60_000);
        expect(() => spec.parse!("soon"), option).toThrow(`Cannot use --${option} "soon"`);
      }
      const named = Object.keys(command.options).filter((o) =>
        /timeout|interval|wait|linger|grace/.test(o),
      );
      expect(durations.map(([o]) => o)).toEqual(named);
    },
  );
});
