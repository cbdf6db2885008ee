#!/usr/bin/env node
// The socklab command. In the workspace the TypeScript source runs through tsx,
// with the "@socklab/source" export condition so no package needs a build; a
// published copy has no src/ and runs its built dist/ as plain JavaScript.
import { existsSync } from "node:fs";

const source = new URL("../src/main.ts", import.meta.url);
if (existsSync(source)) {
  await import("./_register.js");
  await import(source.href);
} else {
  await import(new URL("../dist/main.js", import.meta.url).href);
}
