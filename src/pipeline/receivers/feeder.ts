import type { Bus } from "../bus/bus.js";
import { type Ingestor, IngestUnavailableError } from "./backpressure.js";
import type { DecodeResult } from "./decode-result.js";

export interface FeedSummary {
  accepted: number;
  rejected: number;
  published: number;
  /** The first distinct rejection reasons (at most 10). */
  reasons: string[];
}

/**
 * An offline source (a file, stdin, the demo shop) handing decoded chunks to the receivers' Ingestor.
 * It waits for the bus after every chunk instead of running ahead of the consumers: with the in-process
 * bus they share this process's one thread, so running ahead gains no speed and only holds up to
 * INGEST_BUFFER_EVENTS events in memory (250 MB more heap on the 8-day demo); on Kafka the wait is the
 * producer's send.
 */
export class Feeder {
  readonly summary: FeedSummary = { accepted: 0, rejected: 0, published: 0, reasons: [] };

  /** `consumed`: something takes what is published (a stream stage in this process, or Kafka's workers). */
  constructor(
    private readonly ingestor: Ingestor,
    private readonly bus: Bus,
    private readonly receiver: string,
    private readonly consumed: boolean,
  ) {}

  /** Hands one chunk to the bus; when the bus is full (other senders too), waits for the consumers and tries again. */
  async feed(signal: string, result: DecodeResult): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ingestor.hand(this.receiver, signal, result);
        break;
      } catch (err) {
        if (!(err instanceof IngestUnavailableError)) throw err;
        if (!this.consumed) {
          throw new Error(
            `the bus is full (INGEST_BUFFER_EVENTS) and nothing consumes it in this process: ${err.message}`,
          );
        }
        await this.bus.flush();
        if (attempt > 100) throw err;
      }
    }
    if (this.consumed) await this.bus.flush();
    this.summary.accepted += result.accepted;
    this.summary.rejected += result.rejected;
    this.summary.published += result.events.length;
    for (const r of result.reasons) {
      if (this.summary.reasons.length < 10 && !this.summary.reasons.includes(r)) this.summary.reasons.push(r);
    }
  }
}
