/**
 * Builds the prebuilt binaries: `prebuilds/linux-x64/` and `prebuilds/linux-arm64/`
 * (Node-API, glibc, stripped) with prebuildify, the other architecture with
 * Debian's cross compiler (`apt-get install gcc-aarch64-linux-gnu` on x64,
 * `gcc-x86-64-linux-gnu` on arm64), then writes the source stamp beside them.
 * Run it after changing anything in `c/` or `binding.gyp`:
 * `npm run prebuilds -w @socklab/native`.
 *
 * It compiles against the Node headers of `npm_config_nodedir`, or of the Node
 * that runs it; the binary uses Node-API 8 only, so any Node from 20 on serves.
 */
import { spawnSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { arch } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { STAMP_FILE, sourceStamp } from "../src/_source_stamp.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);

/** The GNU toolchain prefix that builds for each architecture on another one. */
const CROSS_PREFIX: Record<string, string> = {
  x64: "x86_64-linux-gnu-",
  arm64: "aarch64-linux-gnu-",
};

const nodedir = process.env["npm_config_nodedir"] || dirname(dirname(process.execPath));
if (!existsSync(join(nodedir, "include/node/node_api.h"))) {
  console.error(
    `prebuild: no Node headers in "${nodedir}/include/node"; set npm_config_nodedir to a Node install that has them`,
  );
  process.exit(1);
}

for (const target of ["x64", "arm64"]) {
  const prefix = target === arch() ? "" : CROSS_PREFIX[target]!;
  const cc = `${prefix}gcc`;
  if (spawnSync(cc, ["--version"]).status !== 0) {
    console.error(`prebuild: "${cc}" is missing, so linux-${target} cannot be built`);
    process.exit(1);
  }
  rmSync(join(root, "prebuilds", `linux-${target}`), { recursive: true, force: true });
  rmSync(join(root, "build"), { recursive: true, force: true });
  const result = spawnSync(
    process.execPath,
    [
      require.resolve("prebuildify/bin.js"),
      "--napi",
      "--strip",
      "--tag-libc",
      `--arch=${target}`,
      `--target=node@${process.versions.node}`,
    ],
    {
      cwd: root,
      stdio: "inherit",
      env: {
        ...process.env,
        npm_config_nodedir: nodedir,
        CC: cc,
        CXX: `${prefix}g++`,
        LINK: `${prefix}gcc`,
        PREBUILD_STRIP_BIN: `${prefix}strip`,
        PREBUILD_NODE_GYP: process.env["npm_config_node_gyp"] || "node-gyp",
      },
    },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
}
// The last build in build/ is for the other architecture; node-gyp-build prefers build/ over prebuilds/.
rmSync(join(root, "build"), { recursive: true, force: true });
writeFileSync(join(root, STAMP_FILE), sourceStamp(root));
console.log(`prebuild: wrote prebuilds/linux-x64, prebuilds/linux-arm64 and ${STAMP_FILE}`);
