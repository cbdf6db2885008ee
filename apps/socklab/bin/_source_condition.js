// Module resolve hook: resolve workspace packages to their TypeScript source.
// Plain (not async) so it serves both module.registerHooks and module.register.
export function resolve(specifier, context, next) {
  const conditions = context.conditions.includes("@socklab/source")
    ? context.conditions
    : ["@socklab/source", ...context.conditions];
  return next(specifier, { ...context, conditions });
}
