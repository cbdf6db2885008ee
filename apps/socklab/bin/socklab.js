#!/usr/bin/env node
// The socklab command. In the workspace it runs the TypeScript source, with the
// "@socklab/source" export condition so no package needs a build (_register.js);
// a published copy has no src/ and runs its built dist/ as plain JavaScript.
import { existsSync } from "node:fs";

const source = new URL("../src/main.ts", import.meta.url);
if (existsSync(source)) {
  await import("./_register.js");
  await import(source.href);
} else {
  await import(new URL("../dist/main.js", import.meta.url).href);
}
