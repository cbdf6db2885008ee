/**
 * The hello-web handler's answers, built once: status line, headers and body in
 * one buffer, so each answer is one write. Only the `date` header changes; the
 * buffers are rebuilt when the second changes (never patched in place: a
 * buffer may still sit in a socket's write queue).
 *
 * @module
 */

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  414: "URI Too Long",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/**
 * The reason phrase of a status code.
 *
 * @param status The status code.
 * @returns `"Not Found"` for 404; `""` for codes the handler never sends.
 */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? "";
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The HTML page of an error status.
 *
 * @param status The status code.
 * @param detail One sentence on what was wrong, or `""`.
 * @returns A small HTML document.
 */
export function errorPage(status: number, detail: string): string {
  const title = `${status} ${statusText(status)}`;
  const p = detail === "" ? "" : `<p>${escapeHtml(detail)}</p>`;
  return `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1>${p}</body></html>`;
}

/** Slots of the page and the 404 answer: 8 variants (found, HEAD, keep-alive). */
const SLOTS = 8;

/** Prebuilt answers with a `date` header that is right to the second. */
export class Responses {
  readonly #page: Buffer;
  readonly #notFound: Buffer;
  readonly #keepAlive: string;
  #until = 0;
  #date = "";
  #slots: (Buffer | undefined)[] = new Array<Buffer | undefined>(SLOTS);
  readonly #errors = new Map<string, Buffer>();

  /**
   * @param page The body of `/`.
   * @param keepAliveMs The keep-alive timeout, announced in `keep-alive: timeout=N`.
   */
  constructor(page: Buffer, keepAliveMs: number) {
    this.#page = page;
    this.#notFound = Buffer.from(errorPage(404, ""), "utf8");
    this.#keepAlive = `connection: keep-alive\r\nkeep-alive: timeout=${Math.max(1, Math.floor(keepAliveMs / 1000))}\r\n`;
  }

  /**
   * The answer to a good request: the page for `/`, else 404.
   *
   * @param found Whether the path is `/`.
   * @param head Whether the method is HEAD (headers only).
   * @param keepAlive Whether the connection stays open.
   * @returns The bytes to write.
   */
  page(found: boolean, head: boolean, keepAlive: boolean): Buffer {
    const now = Date.now();
    if (now >= this.#until) this.#roll(now);
    const slot = (found ? 0 : 4) + (head ? 2 : 0) + (keepAlive ? 1 : 0);
    let bytes = this.#slots[slot];
    if (bytes === undefined) {
      bytes = this.#build(
        found ? 200 : 404,
        found ? this.#page : this.#notFound,
        head,
        keepAlive ? this.#keepAlive : "connection: close\r\n",
      );
      this.#slots[slot] = bytes;
    }
    return bytes;
  }

  /**
   * The answer to a refused request; the connection closes after it.
   *
   * @param status The status code.
   * @param reason What was wrong (shown in the page).
   * @param head Whether the method is HEAD (headers only).
   * @returns The bytes to write.
   */
  error(status: number, reason: string, head: boolean): Buffer {
    const now = Date.now();
    if (now >= this.#until) this.#roll(now);
    const key = `${status}${head ? "h" : "g"}${reason}`;
    let bytes = this.#errors.get(key);
    if (bytes === undefined) {
      const extra =
        status === 405 ? "allow: GET, HEAD\r\n" : status === 503 ? "retry-after: 1\r\n" : "";
      bytes = this.#build(
        status,
        Buffer.from(errorPage(status, reason), "utf8"),
        head,
        `${extra}connection: close\r\n`,
      );
      this.#errors.set(key, bytes);
    }
    return bytes;
  }

  #roll(now: number): void {
    this.#date = new Date(now).toUTCString();
    this.#until = (Math.floor(now / 1000) + 1) * 1000;
    this.#slots = new Array<Buffer | undefined>(SLOTS);
    this.#errors.clear();
  }

  #build(status: number, body: Buffer, head: boolean, connection: string): Buffer {
    const top = Buffer.from(
      `HTTP/1.1 ${status} ${statusText(status)}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: ${body.length}\r\ndate: ${this.#date}\r\n${connection}\r\n`,
      "latin1",
    );
    return head ? top : Buffer.concat([top, body]);
  }
}
