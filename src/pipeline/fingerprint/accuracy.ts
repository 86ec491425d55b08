/**
 * The Loghub benchmark's accuracy measures (as its evaluator computes them): grouping accuracy, its
 * F-measure, and message-level parsing accuracy. Pure, so the benchmark and the regression test share it.
 */

export interface Accuracy {
  ga: number;
  fga: number;
  pa: number;
  predictedGroups: number;
  truthGroups: number;
}

function groups(labels: readonly string[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  labels.forEach((l, i) => {
    let g = m.get(l);
    if (!g) {
      g = [];
      m.set(l, g);
    }
    g.push(i);
  });
  return m;
}

/** Our placeholders are compared as `<*>`, as the benchmark's definitions ask. */
export function asWildcards(template: string): string {
  return template.replace(/<[A-Z][A-Z_]{1,15}>/g, "<*>");
}

export function accuracy(
  truthTemplates: readonly string[],
  predictedIds: readonly string[],
  predictedTemplates: readonly string[],
): Accuracy {
  const n = truthTemplates.length;
  if (predictedIds.length !== n || predictedTemplates.length !== n) {
    throw new Error(`accuracy: ${n} truth rows but ${predictedIds.length} predictions`);
  }
  const truth = groups(truthTemplates);
  const pred = groups(predictedIds);
  let matchedRows = 0;
  let matchedGroups = 0;
  for (const rows of truth.values()) {
    const p = predictedIds[rows[0]!]!;
    const pg = pred.get(p)!;
    if (pg.length === rows.length && pg.every((r, i) => r === rows[i])) {
      matchedRows += rows.length;
      matchedGroups++;
    }
  }
  let same = 0;
  for (let i = 0; i < n; i++) if (asWildcards(predictedTemplates[i]!) === truthTemplates[i]) same++;
  const pga = pred.size ? matchedGroups / pred.size : 0;
  const rga = truth.size ? matchedGroups / truth.size : 0;
  return {
    ga: n ? matchedRows / n : 0,
    fga: pga + rga ? (2 * pga * rga) / (pga + rga) : 0,
    pa: n ? same / n : 0,
    predictedGroups: pred.size,
    truthGroups: truth.size,
  };
}
