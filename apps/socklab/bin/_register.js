// Loads TypeScript source in this process: workspace packages resolve to their
// src/ through the "@socklab/source" export condition (the resolve hook in
// _source_condition.js). Node >= 22.18 strips the types itself; older versions
// compile .ts through tsx. Used by socklab.js, by socklab-bench, and with
// `node --import` by the bench's load clients. Never part of a published copy.
import module from "node:module";
import { resolve } from "./_source_condition.js";

// module.registerHooks (Node >= 22.15) runs in this thread and is the API that
// stays; module.register is deprecated from Node 26 (DEP0205).
if (module.registerHooks) module.registerHooks({ resolve });
else module.register("./_source_condition.js", import.meta.url);

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
const stripsTypes = process.features.typescript && (major > 22 || minor >= 18);
if (!stripsTypes) {
  const { register } = await import("tsx/esm/api");
  register();
}
