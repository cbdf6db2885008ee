/**
 * `--exec` and `--sh-exec`, which `listen` and `relay` share: a program for each
 * client in place of stdin and stdout or a target address.
 *
 * @module
 */
import { type ExecTarget, splitCommand } from "@socklab/relay";
import { UsageError } from "../command.ts";

/** The options `--exec CMD` and `--sh-exec CMD`. */
export const EXEC_OPTIONS = {
  exec: {
    type: "string",
    short: "e",
    valueName: "CMD",
    description:
      "Give each client its own CMD, socket as its stdin and stdout; split into words as a shell would, but with no shell (no $VAR, globs or pipes)",
    parse: (value: string) => ({ text: value, argv: splitCommand(value) }),
  },
  "sh-exec": {
    type: "string",
    short: "c",
    valueName: "CMD",
    description: "As --exec, run by a shell: /bin/sh -c CMD (pipes, $VAR, globs)",
  },
} as const;

/**
 * The program `--exec` or `--sh-exec` names, if any.
 *
 * @param values The parsed options.
 * @returns The target for each client, or `undefined` without either option.
 */
export function execTarget(values: {
  exec: { text: string; argv: string[] } | undefined;
  "sh-exec": string | undefined;
}): ExecTarget | undefined {
  const shell = values["sh-exec"];
  if (values.exec !== undefined && shell !== undefined) {
    throw new UsageError("Cannot use --exec and --sh-exec together: give one program");
  }
  if (values.exec !== undefined) {
    return { exec: values.exec.argv, name: `exec:${values.exec.text}` };
  }
  if (shell !== undefined) {
    if (shell.trim() === "") throw new UsageError('Cannot use --sh-exec "": give a command');
    return { exec: ["/bin/sh", "-c", shell], name: `sh-exec:${shell}` };
  }
  return undefined;
}
