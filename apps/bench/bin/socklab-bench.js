#!/usr/bin/env node
// The socklab-bench command. The TypeScript source runs through tsx, with the
// "@socklab/source" export condition so no package needs a build (the bench app
// is private and never published, so there is no dist/ to fall back to).
await import("socklab/bin/_register.js");
await import(new URL("../src/main.ts", import.meta.url).href);
