import { SingleBar } from "cli-progress";
import type { AnalyzeDeps } from "../analysis/analyze.js";

/** A progress bar on stderr, only on a terminal (no escape codes in logs or pipes). */
export function progressBar(enabled: boolean): Pick<AnalyzeDeps, "onProgress"> & { stop(): void } {
  if (!enabled) return { stop() {} };
  const bar = new SingleBar({
    format: "reading history [{bar}] {value}/{total} {label}",
    stream: process.stderr,
    hideCursor: true,
  });
  let started = false;
  return {
    onProgress({ done, total, label }) {
      if (!started) {
        bar.start(Math.max(total, 1), done, { label });
        started = true;
      } else bar.update(done, { label });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
