/**
 * Shared or exclusive access to one collection's memory. Scans (which may run on worker threads)
 * and disk writes read the matrix in place, so they hold the gate shared; mutations hold it
 * exclusive and never overlap them. First come, first served: a waiting mutation holds back later
 * readers, so a stream of queries cannot starve it.
 */
export class ReadWriteGate {
  #readers = 0;
  #writing = false;
  readonly #waiting: { readonly exclusive: boolean; readonly grant: () => void }[] = [];

  /** Runs `fn` alongside other shared holders, never alongside an exclusive one. */
  async shared<T>(fn: () => T | Promise<T>): Promise<T> {
    await this.#acquire(false);
    try {
      return await fn();
    } finally {
      this.#readers--;
      this.#drain();
    }
  }

  /** Runs `fn` alone. */
  async exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    await this.#acquire(true);
    try {
      return await fn();
    } finally {
      this.#writing = false;
      this.#drain();
    }
  }

  #acquire(exclusive: boolean): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push({ exclusive, grant: resolve });
      this.#drain();
    });
  }

  #drain(): void {
    for (;;) {
      const next = this.#waiting[0];
      if (next === undefined || this.#writing) return;
      if (next.exclusive) {
        if (this.#readers > 0) return;
        this.#writing = true;
      } else {
        this.#readers++;
      }
      this.#waiting.shift();
      next.grant();
    }
  }
}
