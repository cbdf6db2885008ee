/**
 * Reading the head of an HTTP/1.x response: the status line and the header
 * fields, as `fetchPage()` needs them.
 *
 * @module
 */
import { SocklabError } from "@socklab/core";

/** A parsed response head. */
export interface ResponseHead {
  /** `1.0` or `1.1`, from `HTTP/1.0`. */
  version: string;
  status: number;
  /** The reason phrase, possibly empty. */
  reason: string;
  /** Header fields by lower-case name; repeated fields joined with `, `. */
  headers: Record<string, string>;
}

const STATUS_LINE = /^HTTP\/(\d\.\d) (\d{3})(?: ([^\r\n]*))?$/;
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses a response head, the bytes up to and including the blank line.
 *
 * @param head The head; its last four bytes are `\r\n\r\n`.
 * @param from Who sent it, for messages (`127.0.0.1:50000`).
 * @returns The status and header fields.
 * @throws {SocklabError} `ERR_SOCKLAB_BAD_RESPONSE` for a head that is not HTTP.
 */
export function parseResponseHead(head: Buffer, from: string): ResponseHead {
  // latin1 maps each byte to one character, so no byte sequence can fail to decode.
  const lines = head.toString("latin1").split("\r\n");
  lines.length -= 2; // the empty strings after the final CRLF CRLF
  const statusLine = lines[0] ?? "";
  const match = STATUS_LINE.exec(statusLine);
  if (match === null) {
    throw badResponse(
      from,
      `the status line ${JSON.stringify(statusLine.slice(0, 80))} is not "HTTP/x.y code reason"`,
    );
  }
  const headers: Record<string, string> = Object.create(null);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!FIELD_NAME.test(name)) {
      throw badResponse(from, `the header line ${JSON.stringify(line.slice(0, 80))} has no name`);
    }
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  return { version: match[1]!, status: Number(match[2]), reason: match[3] ?? "", headers };
}

/**
 * The error for an answer that is not HTTP.
 *
 * @param from Who sent it.
 * @param why What is wrong.
 * @returns The error.
 */
export function badResponse(from: string, why: string): SocklabError {
  return new SocklabError(`Cannot read the HTTP response from "${from}": ${why}`, {
    code: "ERR_SOCKLAB_BAD_RESPONSE",
  });
}
