/**
 * Candidates for evidence that holds soft reads: the codewords the evidence weighs heaviest,
 * found by the list decoder (`list.ts`), which enumerates codewords through the values of the 8
 * most reliable positions, cheapest first. A soft read rarely ties, so its hard decision has
 * few erasures but may hold many weak errors; GMD and Chase trials around that hard decision
 * can miss a codeword the likelihoods favour, the enumeration cannot (up to its budget).
 */
import { ListDecoder, MAX_LEAVES } from './list.js';

const list = new ListDecoder();
/**
 * stop once the enumeration is complete this far (natural log) past the heaviest codeword: far
 * enough for the close rivals, whose weight the risk counts
 */
const BEYOND_BEST = 3;
const LEVEL_SLACK = 0.5;
const EVERY_CODEWORD = () => true;

/**
 * Calls `take` with up to `max` of the heaviest codewords of evidence `w`, heaviest first (the
 * array is reused: copy it to keep it).
 */
export function heaviestCodewords(w: Float64Array, max: number, take: (codeword: Uint8Array) => void): void {
  list.prepare(w);
  let complete = -1;
  let leaves = 0;
  for (let limit = LEVEL_SLACK; ; limit = list.nextLimit + LEVEL_SLACK) {
    const before = leaves;
    const reached = list.run(limit, complete, EVERY_CODEWORD);
    leaves = list.leaves;
    complete = reached;
    if (reached < limit || !Number.isFinite(list.nextLimit)) break;
    if (complete >= list.minCost + BEYOND_BEST) break;
    // a level that would grow as the last did past the budget would only be cut short
    if (before > 0 && (leaves * leaves) / before > 2 * MAX_LEAVES) break;
  }
  for (let k = 0; k < list.kept && k < max; k++) take(list.keptSymbols[k]!);
}
