/**
 * An in-process mutex per key: functions given the same key run one at a time, in the order they
 * came; others run alongside. It serialises what one process does (a read-check-write on one
 * object, a change to one tenant's registries), never what several replicas do.
 */
export class KeyedLock {
  /** The last function queued per key; an entry is removed when its queue runs empty. */
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release = (): void => undefined;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => done);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
