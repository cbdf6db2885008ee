import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";

const MOD = fileURLToPath(new URL("./mod.ts", import.meta.url));

/** Runs `code` in a fresh Node that believes it runs on `platform`, with the package imported as `native`. */
async function onPlatform(platform: string, code: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      "--conditions=@socklab/source",
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `Object.defineProperty(process, "platform", { value: ${JSON.stringify(platform)} });
       const native = await import(${JSON.stringify(MOD)});
       ${code}`,
    ],
    { cwd: fileURLToPath(new URL("..", import.meta.url)) },
  );
  return stdout.trim();
}

describe("loading the addon", () => {
  test("on macOS, importing works and the first call says what is missing and what still works", async () => {
    const out = await onPlatform(
      "darwin",
      `console.log(native.netPadsAbstractNames());
       try { native.listenAbstractStream("x"); } catch (e) { console.log(e.code, e.message); }
       try { native.loadUnixDgramBinding(); } catch (e) { console.log(e.code); }`,
    );
    expect(out.split("\n")).toEqual([
      "false",
      `ERR_SOCKLAB_UNSUPPORTED Cannot load socklab's native addon on "darwin": it needs Linux (recvmmsg for UNIX datagram sockets, and abstract socket names); on this system UNIX datagram sockets (@socklab/unix-dgram) and abstract names do not work, TCP, UDP and UNIX stream sockets on file paths do`,
      "ERR_SOCKLAB_UNSUPPORTED",
    ]);
  });
});
