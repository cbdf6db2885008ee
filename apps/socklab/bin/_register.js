// Loads TypeScript source in this process: workspace packages resolve to their
// src/ through the "@socklab/source" export condition (the resolve hook in
// _source_condition.js), and tsx compiles .ts on the fly. Used by socklab.js,
// by socklab-bench, and with `node --import` by the bench's load clients.
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

register("./_source_condition.js", import.meta.url);
registerTsx();
