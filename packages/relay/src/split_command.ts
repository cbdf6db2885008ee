/**
 * Splitting a command line into argv the way a POSIX shell splits words, with
 * no expansions: what `--exec` runs without a shell.
 *
 * @module
 */
import { invalidArgument } from "@socklab/core";

/**
 * Splits a command line into program and arguments as a POSIX shell splits
 * words, and does nothing else: blanks (spaces, tabs, newlines) separate words;
 * `'…'` keeps everything inside as it is; `"…"` too, except that a backslash
 * before `"`, `\`, `$` or `` ` `` stands for that character; outside quotes a
 * backslash keeps the next character as it is. There is no expansion of any
 * kind: `$HOME`, `*`, `~`, `|` and `>` are passed on literally (use a shell,
 * `/bin/sh -c`, for those).
 *
 * @param text The command line.
 * @returns The words, the program first.
 * @throws {TypeError} `ERR_SOCKLAB_INVALID_COMMAND` for an empty command, an
 * unterminated quote or a trailing backslash.
 * @example
 * ```ts
 * import { splitCommand } from "@socklab/relay";
 * splitCommand(`grep -F "a b" 'c\\d'`); // ["grep", "-F", "a b", "c\\d"]
 * ```
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const fail = (why: string): never => {
    throw invalidArgument("type", "ERR_SOCKLAB_INVALID_COMMAND", `Cannot run "${text}": ${why}`);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "\\") {
      if (i + 1 >= text.length) fail("it ends with a backslash");
      // A backslash before a newline joins lines, as in a shell.
      if (text[i + 1] !== "\n") word += text[i + 1];
      i += 2;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close === -1) fail("a single quote is not closed");
      word += text.slice(i + 1, close);
      i = close + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= text.length) fail("a double quote is not closed");
        const d = text[i]!;
        if (d === '"') break;
        if (d === "\\" && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1]!)) {
          if (text[i + 1] !== "\n") word += text[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      i++;
    } else {
      word += c;
      i++;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) fail("it is empty");
  return words;
}
