/**
 * A first-in first-out queue of datagrams bounded by count and by bytes. A full
 * queue refuses the newest datagram (the caller counts it as dropped) instead of
 * growing: a UDP receiver that cannot keep up loses datagrams either way, and
 * losing them here keeps memory bounded and the event loop free.
 *
 * @module
 */

/** What the queue needs to know of an item. */
export interface Sized {
  readonly data: Uint8Array;
}

/** A ring buffer that grows by doubling up to `maxItems`. */
export class DatagramQueue<T extends Sized> {
  readonly maxItems: number;
  readonly maxBytes: number;
  #items: (T | undefined)[];
  #head = 0;
  #length = 0;
  #bytes = 0;

  /**
   * @param maxItems Most datagrams held at once (at least 1).
   * @param maxBytes Most payload bytes held at once; one datagram is always accepted into an empty queue.
   */
  constructor(maxItems: number, maxBytes: number) {
    this.maxItems = maxItems;
    this.maxBytes = maxBytes;
    this.#items = new Array<T | undefined>(Math.min(16, maxItems));
  }

  /** Datagrams held. */
  get length(): number {
    return this.#length;
  }

  /** Payload bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Appends a datagram unless the queue is full.
   *
   * @param item The datagram.
   * @returns `false` when it did not fit (count or bytes), and was not added.
   */
  push(item: T): boolean {
    const size = item.data.length;
    if (this.#length >= this.maxItems) return false;
    if (this.#length > 0 && this.#bytes + size > this.maxBytes) return false;
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) % this.#items.length] = item;
    this.#length += 1;
    this.#bytes += size;
    return true;
  }

  /**
   * Removes and returns the oldest datagram.
   *
   * @returns The datagram, or `undefined` when the queue is empty.
   */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head]!;
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#length -= 1;
    this.#bytes -= item.data.length;
    return item;
  }

  /** Empties the queue. */
  clear(): void {
    this.#items = new Array<T | undefined>(Math.min(16, this.maxItems));
    this.#head = 0;
    this.#length = 0;
    this.#bytes = 0;
  }

  #grow(): void {
    const size = Math.min(this.maxItems, this.#items.length * 2);
    const next = new Array<T | undefined>(size);
    for (let i = 0; i < this.#length; i++)
      next[i] = this.#items[(this.#head + i) % this.#items.length];
    this.#items = next;
    this.#head = 0;
  }
}
