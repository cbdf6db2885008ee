/**
 * A FIFO of byte chunks for stream readers: bytes go in as the socket delivers
 * them and come out in any size, without concatenating everything that is
 * buffered on every read.
 *
 * @module
 */

const EMPTY: Buffer = Buffer.alloc(0);

/** Dropped slots at the front are compacted away once there are this many. */
const COMPACT_AFTER = 1024;

/**
 * The bytes a stream has delivered and nobody has consumed yet, kept as the
 * chunks they arrived in.
 *
 * Taking bytes copies only when a read spans several chunks; searching resumes
 * at the chunk it last stopped in, so a reader that waits for a delimiter does
 * not walk the whole queue on every new chunk.
 *
 * @example
 * ```ts
 * const q = new ByteQueue();
 * q.push(Buffer.from("GET / HTTP/1.0\r"));
 * q.push(Buffer.from("\n\r\nbody"));
 * q.indexOf(Buffer.from("\r\n\r\n")); // 14
 * q.take(18).toString(); // "GET / HTTP/1.0\r\n\r\n"
 * ```
 */
export class ByteQueue {
  /** Chunks from `#head` on; the slots before it are dropped. */
  #chunks: (Buffer | undefined)[] = [];
  #head = 0;
  #length = 0;
  /** Where the last search started: a chunk index and the byte offset of that chunk. */
  #cursorIndex = -1;
  #cursorBase = 0;

  /** The number of bytes queued. */
  get length(): number {
    return this.#length;
  }

  /** The number of chunks queued. */
  get chunkCount(): number {
    return this.#chunks.length - this.#head;
  }

  /**
   * Appends a chunk; it is kept, not copied.
   *
   * @param chunk The bytes; an empty chunk is ignored.
   */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /**
   * Puts a chunk back in front of the queued bytes; it is kept, not copied.
   *
   * @param chunk The bytes; an empty chunk is ignored.
   */
  unshift(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#cursorIndex = -1;
    if (this.#head > 0) {
      this.#head--;
      this.#chunks[this.#head] = chunk;
    } else {
      this.#chunks.unshift(chunk);
    }
    this.#length += chunk.length;
  }

  /**
   * Removes the first chunk as it arrived.
   *
   * @returns The chunk, or `undefined` when the queue is empty.
   */
  shift(): Buffer | undefined {
    if (this.#length === 0) return undefined;
    const chunk = this.#chunks[this.#head]!;
    this.#dropFirst();
    this.#length -= chunk.length;
    return chunk;
  }

  /**
   * Removes the first `n` bytes. Copies only when they span several chunks.
   *
   * @param n How many bytes; at most {@linkcode ByteQueue.length}.
   * @returns The bytes.
   */
  take(n: number): Buffer {
    if (n <= 0) return EMPTY;
    if (n > this.#length)
      throw new RangeError(`Cannot take ${n} bytes: only ${this.#length} are queued`);
    this.#cursorIndex = -1;
    this.#length -= n;
    const chunks = this.#chunks;
    const first = chunks[this.#head]!;
    if (first.length > n) {
      chunks[this.#head] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.#dropFirst();
      return first;
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const chunk = chunks[this.#head]!;
      const need = n - offset;
      if (chunk.length <= need) {
        out.set(chunk, offset);
        offset += chunk.length;
        this.#dropFirst();
      } else {
        out.set(chunk.subarray(0, need), offset);
        chunks[this.#head] = chunk.subarray(need);
        offset = n;
      }
    }
    return out;
  }

  /**
   * Removes every queued byte.
   *
   * @returns The bytes, as one buffer.
   */
  takeAll(): Buffer {
    if (this.chunkCount === 1) return this.shift()!;
    const all =
      this.#length === 0
        ? EMPTY
        : Buffer.concat(this.#chunks.slice(this.#head) as Buffer[], this.#length);
    this.clear();
    return all;
  }

  /** Forgets every queued byte. */
  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#length = 0;
    this.#cursorIndex = -1;
  }

  /**
   * Finds the first occurrence of `needle` that starts at or after `from` and
   * ends at or before `end`, also where it spans chunks.
   *
   * A caller that waits for more bytes can pass `from = length - needle.length + 1`
   * next time: every earlier start was already ruled out.
   *
   * @param needle The bytes to find; not empty.
   * @param from The first start offset to consider.
   * @param end The offset the match must end by; defaults to {@linkcode ByteQueue.length}.
   * @returns The offset of the match, or `-1`.
   */
  indexOf(needle: Uint8Array, from = 0, end: number = this.#length): number {
    const d = needle.length;
    if (d === 0) throw new RangeError("Cannot search for an empty needle");
    if (end > this.#length) end = this.#length;
    if (from < 0) from = 0;
    const lastStart = end - d;
    if (from > lastStart) return -1;
    const chunks = this.#chunks;
    let i = this.#head;
    let base = 0;
    if (this.#cursorIndex >= 0 && this.#cursorBase <= from) {
      i = this.#cursorIndex;
      base = this.#cursorBase;
    }
    while (base + chunks[i]!.length <= from) {
      base += chunks[i]!.length;
      i++;
    }
    this.#cursorIndex = i;
    this.#cursorBase = base;
    const first = needle[0];
    for (; base <= lastStart; i++) {
      const chunk = chunks[i]!;
      const length = chunk.length;
      let s = from > base ? from - base : 0;
      // Matches that lie inside this chunk: let the native search find them.
      const withinLast = Math.min(length - d, lastStart - base);
      if (s <= withinLast) {
        const hay = withinLast + d < length ? chunk.subarray(0, withinLast + d) : chunk;
        const p = hay.indexOf(needle, s);
        if (p >= 0) return base + p;
        s = withinLast + 1;
      }
      // Matches that start here and continue in the next chunks.
      const straddleLast = Math.min(length - 1, lastStart - base);
      for (; s <= straddleLast; s++) {
        if (chunk[s] === first && this.#matchesAt(i, s, needle)) return base + s;
      }
      base += length;
    }
    return -1;
  }

  /** Whether `needle` occurs at offset `s` of chunk `i`, reading on into later chunks. */
  #matchesAt(i: number, s: number, needle: Uint8Array): boolean {
    const chunks = this.#chunks;
    let chunk = chunks[i]!;
    let offset = s;
    for (let k = 0; k < needle.length; k++) {
      if (offset === chunk.length) {
        const next = chunks[++i];
        if (next === undefined) return false;
        chunk = next;
        offset = 0;
      }
      if (chunk[offset++] !== needle[k]) return false;
    }
    return true;
  }

  #dropFirst(): void {
    this.#cursorIndex = -1;
    this.#chunks[this.#head] = undefined;
    this.#head++;
    if (this.#head === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#chunks.length) {
      this.#chunks.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
