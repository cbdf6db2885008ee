/**
 * Addresses as this package writes them: a socket path, or `@name` for a Linux
 * abstract socket (the form the apps' `--path` takes; a relative path that
 * starts with `@` is written `./@name`). The addon takes abstract names with
 * their leading NUL byte.
 *
 * @module
 */

/**
 * The addon's form of an address: `@name` → `"\0name"`.
 *
 * @param address A path or `@name`.
 * @returns What the addon binds, connects or sends to.
 */
export function toNative(address: string): string {
  return address.startsWith("@") ? `\0${address.slice(1)}` : address;
}

/**
 * This package's form of an address the addon reported: `"\0name"` → `@name`.
 *
 * @param address A path, or an abstract name with its leading NUL.
 * @returns A path or `@name`.
 */
export function fromNative(address: string): string {
  return address.charCodeAt(0) === 0 ? `@${address.slice(1)}` : address;
}
