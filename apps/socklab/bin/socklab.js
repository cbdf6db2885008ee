#!/usr/bin/env node
// The socklab command. In the workspace the TypeScript source runs through tsx,
// with the "@socklab/source" export condition so no package needs a build; a
// published copy has no src/ and runs its built dist/ as plain JavaScript.
import { existsSync } from "node:fs";
import { register } from "node:module";

const source = new URL("../src/main.ts", import.meta.url);
if (existsSync(source)) {
  register("./_source_condition.js", import.meta.url);
  const { register: registerTsx } = await import("tsx/esm/api");
  registerTsx();
  await import(source.href);
} else {
  await import(new URL("../dist/main.js", import.meta.url).href);
}
