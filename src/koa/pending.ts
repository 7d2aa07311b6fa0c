// A count of things in progress that can be awaited to reach zero: requests in flight, background tasks
// pending. Waiters that time out leave, so a long-lived count does not collect them.

export class PendingCount {
  private count = 0;
  private readonly waiters = new Set<() => void>();

  get value(): number {
    return this.count;
  }

  increment(): void {
    this.count++;
  }

  decrement(): void {
    this.count--;
    if (this.count !== 0) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves true once the count is zero, or false when `timeoutMs` passes first. */
  idle(timeoutMs = Infinity): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const wake = (): void => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      this.waiters.add(wake);
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(
          () => {
            this.waiters.delete(wake);
            resolve(false);
          },
          Math.max(0, timeoutMs),
        );
      }
    });
  }
}
