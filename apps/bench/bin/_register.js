// Loads TypeScript source in this process: workspace packages resolve to their
// src/ through the "@socklab/source" export condition, and tsx compiles .ts on
// the fly. socklab-bench imports it; the load clients get it with `--import`.
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

register("./_source_condition.js", import.meta.url);
registerTsx();
