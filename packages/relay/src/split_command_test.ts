import { execFileSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { splitCommand } from "./split_command.ts";

describe("splitCommand()", () => {
  test.each([
    ["cat", ["cat"]],
    ["  head   -c\t10 ", ["head", "-c", "10"]],
    [`grep -F "a b" 'c\\d'`, ["grep", "-F", "a b", "c\\d"]],
    [`echo a\\ b \\"q\\"`, ["echo", "a b", '"q"']],
    [`echo "x\\"y\\\\z\\n"`, ["echo", 'x"y\\z\\n']],
    [`echo ''`, ["echo", ""]],
    [`echo a"b"'c'd`, ["echo", "abcd"]],
    ["echo $HOME * ~ | >f", ["echo", "$HOME", "*", "~", "|", ">f"]],
    ["echo a\\\nb", ["echo", "ab"]],
  ])("splitCommand(%j) is %j", (text, argv) => {
    expect(splitCommand(text)).toEqual(argv);
  });

  test.each([
    ["", "it is empty"],
    ["  ", "it is empty"],
    ["echo 'a", "a single quote is not closed"],
    ['echo "a', "a double quote is not closed"],
    ["echo a\\", "it ends with a backslash"],
  ])("splitCommand(%j) is refused: %s", (text, why) => {
    expect(() => splitCommand(text)).toThrow(
      expect.objectContaining({
        code: "ERR_SOCKLAB_INVALID_COMMAND",
        message: `Cannot run "${text}": ${why}`,
      }),
    );
  });

  test("splits as /bin/sh does where there is nothing to expand", () => {
    const line = `printf '%s|' a\\ b "c \\"d\\" \\\\e" 'f\\g' h"i"j`;
    const shell = execFileSync("/bin/sh", ["-c", line], { encoding: "utf8" });
    const ours = execFileSync(splitCommand(line)[0]!, splitCommand(line).slice(1), {
      encoding: "utf8",
    });
    expect(ours).toBe(shell);
  });
});
