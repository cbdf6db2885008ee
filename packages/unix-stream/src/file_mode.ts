import { invalidArgument } from "@socklab/core";

/**
 * Checks a socket file mode: permission bits only, `0o000` to `0o777`.
 *
 * @param mode The mode.
 * @returns Nothing.
 * @throws {RangeError} `ERR_SOCKLAB_INVALID_MODE` for anything else.
 * @example
 * ```ts
 * import { checkFileMode } from "@socklab/unix-stream";
 * checkFileMode(0o660); // fine
 * ```
 */
export function checkFileMode(mode: number): void {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_MODE",
      `Cannot use mode "${typeof mode === "number" ? `0o${mode.toString(8)}` : String(mode)}": expected permission bits from 0o000 to 0o777`,
    );
  }
}

/**
 * Reads a file mode written in octal, as `chmod` takes it: `600`, `0600` or `0o600`.
 *
 * @param text The mode as written.
 * @returns The mode as a number (`0o600`).
 * @throws {RangeError} `ERR_SOCKLAB_INVALID_MODE` for anything but 1 to 4 octal digits
 *   (with an optional `0o`) giving `0o000` to `0o777`.
 * @example
 * ```ts
 * import { parseFileMode } from "@socklab/unix-stream";
 * parseFileMode("660"); // 0o660
 * parseFileMode("0o600"); // 0o600
 * ```
 */
export function parseFileMode(text: string): number {
  const match = /^(?:0o)?([0-7]{1,4})$/i.exec(text.trim());
  const mode = match === null ? Number.NaN : Number.parseInt(match[1]!, 8);
  if (!(mode >= 0 && mode <= 0o777)) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_MODE",
      `Cannot use mode "${text}": expected octal permission bits such as 600, 0660 or 0o600`,
    );
  }
  return mode;
}

/**
 * Writes a file mode as `ls -l` users and `chmod` read it: four octal digits.
 *
 * @param mode The mode.
 * @returns `"0600"` for `0o600`.
 * @example
 * ```ts
 * import { formatFileMode } from "@socklab/unix-stream";
 * formatFileMode(0o660); // "0660"
 * ```
 */
export function formatFileMode(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}
