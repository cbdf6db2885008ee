/**
 * The stamp written beside the prebuilt binaries: the SHA-256 of every file
 * they are built from, in `sha256sum` format, so a test (and
 * `sha256sum -c prebuilds/SOURCE_SHA256`) sees when they are stale.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Where the stamp lives, relative to the package root. */
export const STAMP_FILE = "prebuilds/SOURCE_SHA256";

/** The files the addon is built from, relative to the package root, sorted. */
export function sourceFiles(root: string): string[] {
  const c = readdirSync(join(root, "c"))
    .filter((name) => /\.[ch]$/.test(name))
    .map((name) => `c/${name}`);
  return ["binding.gyp", ...c].sort();
}

/** The stamp for the sources as they are now: one `<sha256>  <file>` line each. */
export function sourceStamp(root: string): string {
  return sourceFiles(root)
    .map((file) => {
      const hash = createHash("sha256")
        .update(readFileSync(join(root, file)))
        .digest("hex");
      return `${hash}  ${file}\n`;
    })
    .join("");
}
