/**
 * The work that follows a Slack ack (claiming the delivery, the "running" message, queueing the job),
 * at most `concurrency` commands at once in arrival order, each started on a later turn of the event
 * loop. A burst of commands is then acked first and taken in afterwards: fifty claims, Web API calls
 * and database writes started together would hold the one event loop while later requests of the burst
 * wait to be read and acked. `drain` waits for every command taken so far, so a shutdown answers or
 * queues each acknowledged command before the queue and the database close.
 */
export interface Intake {
  run(task: () => Promise<void>): Promise<void>;
  drain(): Promise<void>;
}

export function intake(concurrency: number): Intake {
  const waiting: (() => void)[] = [];
  const pending = new Set<Promise<void>>();
  let running = 0;

  const acquire = async () => {
    if (running < concurrency) {
      running++;
      return;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  // The slot passes straight to the next waiter, so `running` never dips while commands wait.
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  return {
    run(task) {
      const done = (async () => {
        await acquire();
        try {
          await new Promise((resolve) => setImmediate(resolve));
          await task();
        } finally {
          release();
        }
      })();
      pending.add(done);
      const forget = () => pending.delete(done);
      done.then(forget, forget);
      return done;
    },
    async drain() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
