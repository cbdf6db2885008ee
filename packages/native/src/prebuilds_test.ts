import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { PACKAGE_ROOT } from "./_addon.ts";
import { STAMP_FILE, sourceStamp } from "./_source_stamp.ts";

const BINARY = "@socklab+native.glibc.node";
/** ELF `e_machine` of each prebuilt architecture. */
const MACHINE: Record<string, number> = { x64: 62, arm64: 183 };

describe("prebuilt binaries", () => {
  test("are built from the current C sources and binding.gyp (else: npm run prebuilds -w @socklab/native)", () => {
    const committed = readFileSync(join(PACKAGE_ROOT, STAMP_FILE), "utf8");
    expect(sourceStamp(PACKAGE_ROOT), "the prebuilt binaries are stale").toBe(committed);
  });

  test.each(Object.entries(MACHINE))(
    "linux-%s is a small 64-bit ELF shared object for its CPU",
    (arch, machine) => {
      const file = readFileSync(join(PACKAGE_ROOT, "prebuilds", `linux-${arch}`, BINARY));
      expect(file.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
      expect(file[4]).toBe(2); // ELFCLASS64
      expect(file.readUInt16LE(16)).toBe(3); // ET_DYN
      expect(file.readUInt16LE(18)).toBe(machine);
      expect(file.length).toBeLessThan(128 * 1024); // stripped
    },
  );

  test.runIf(process.arch in MACHINE)(
    "node-gyp-build takes this platform's prebuilt binary when nothing was compiled",
    async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          "-e",
          `const load = require("node-gyp-build");
           const file = load.resolve(process.argv[1]);
           const addon = load(process.argv[1]);
           console.log(JSON.stringify({ file, stream: typeof addon.streamListen, batch: addon.BATCH }));`,
          PACKAGE_ROOT,
        ],
        { cwd: PACKAGE_ROOT, env: { ...process.env, PREBUILDS_ONLY: "1" } },
      );
      expect(JSON.parse(stdout)).toEqual({
        file: join(PACKAGE_ROOT, "prebuilds", `linux-${process.arch}`, BINARY),
        stream: "function",
        batch: 64,
      });
    },
  );
});
