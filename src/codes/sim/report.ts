/** The identification table, as markdown for people and as JSON for tools. */
import { MAX_CASES, type Tally } from './identify.js';

/** One-sided 95 % upper bound on a rate after k events in n trials (exact Poisson, k ≤ 30). */
export function upperBound95(k: number, n: number): number {
  // smallest λ with P(X ≤ k | λ) ≤ 0.05, by bisection
  const cdf = (lambda: number) => {
    let term = Math.exp(-lambda);
    let sum = term;
    for (let i = 1; i <= k; i++) {
      term *= lambda / i;
      sum += term;
    }
    return sum;
  };
  let lo = 0;
  let hi = k + 10 + 10 * Math.sqrt(k + 1);
  for (let it = 0; it < 100; it++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) > 0.05) lo = mid;
    else hi = mid;
  }
  return hi / n;
}

export interface Row {
  cases: number;
  trials: number;
  correct: number;
  none: number;
  wrong: number;
  /** one-sided 95 % upper bound on the wrong-identification rate */
  wrongRateUpper95: number;
  /** wrong identifications the decoder's own risk estimates predict */
  expectedWrong: number;
}

export function rows(tally: Tally): Row[] {
  return Array.from({ length: MAX_CASES }, (_, n) => ({
    cases: n + 1,
    trials: tally.trials,
    correct: tally.correct[n]!,
    none: tally.none[n]!,
    wrong: tally.wrong[n]!,
    wrongRateUpper95: upperBound95(tally.wrong[n]!, tally.trials),
    expectedWrong: tally.expectedWrong[n]!,
  }));
}

const pct = (k: number, n: number) => `${((100 * k) / n).toFixed(2)} %`;

export function markdownTable(tally: Tally): string {
  const lines = [
    '| cases per gun | correct | none | **wrong** | wrong rate, 95 % upper bound | wrong expected by the decoder |',
    '|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows(tally)) {
    lines.push(
      `| ${r.cases} | ${pct(r.correct, r.trials)} | ${pct(r.none, r.trials)} | **${r.wrong}** | ` +
        `${r.wrongRateUpper95.toExponential(1)} | ${r.expectedWrong.toExponential(1)} |`,
    );
  }
  return lines.join('\n');
}
