/**
 * Problem lists for invalid orders. Every problem is counted, but only the first few hundred are
 * kept: a 100,000-firearm order with a wrong serial pattern would otherwise produce an answer
 * larger than the order. When some are left out, the list ends with one entry saying how many,
 * so that a list returned verbatim (an HTTP answer, a report file) still tells the whole story.
 */

/** A problem in a JSON order: `path` names the field (`make`, `firearms[12].serial`; `''` is the order itself). */
export interface Problem {
  path: string;
  reason: string;
}

/** A problem in a CSV file: `row` as a spreadsheet counts it (the header is row 1; 0 is the file as a whole). */
export interface CsvProblem {
  row: number;
  field?: string;
  reason: string;
}

export const DEFAULT_MAX_PROBLEMS = 200;

export class ProblemCollector<P> {
  readonly #max: number;
  readonly #list: P[] = [];
  #total = 0;

  constructor(max: number = DEFAULT_MAX_PROBLEMS) {
    this.#max = max > 0 ? max : Number.POSITIVE_INFINITY;
  }

  add(p: P): void {
    this.#total++;
    if (this.#list.length < this.#max) this.#list.push(p);
  }

  get total(): number {
    return this.#total;
  }

  get empty(): boolean {
    return this.#total === 0;
  }

  /** The kept problems, followed by `summary(omitted)` when some were left out. */
  finish(summary: (omitted: number, listed: number) => P): P[] {
    const omitted = this.#total - this.#list.length;
    return omitted > 0 ? [...this.#list, summary(omitted, this.#list.length)] : [...this.#list];
  }
}

export function omittedReason(omitted: number, listed: number): string {
  return `${omitted} more problem${omitted === 1 ? '' : 's'} not listed (only the first ${listed} are); fix these and check again`;
}

export function formatProblem(p: Problem): string {
  return `${p.path === '' ? '(order)' : p.path}: ${p.reason}`;
}

export function formatCsvProblem(p: CsvProblem): string {
  const where = p.row === 0 ? 'file' : `row ${p.row}`;
  return `${where}${p.field ? `, ${p.field}` : ''}: ${p.reason}`;
}
