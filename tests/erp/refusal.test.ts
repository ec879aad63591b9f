/**
 * The line's refusal of a drop-folder file, as the problems the folder's report lists; anything
 * that is no answer about the file is left for the folder to retry.
 */
import { describe, expect, it } from 'vitest';
import { refusalProblems } from '../../src/erp/refusal.js';
import { StamplineError } from '../../src/errors.js';

describe('refusalProblems', () => {
  it('lists each serial the line already holds', () => {
    const err = new StamplineError('SERIAL_EXISTS', 'serials already held', {
      conflicts: [
        { serial: 'SN-1', reason: 'held by order PO-1' },
        { serial: 'SN-2', reason: 'held by order PO-2' },
      ],
    });
    expect(refusalProblems(err)).toEqual([
      { serial: 'SN-1', reason: 'held by order PO-1' },
      { serial: 'SN-2', reason: 'held by order PO-2' },
    ]);
  });

  it('names each order with each problem when the orders cannot be taken as configured', () => {
    const err = new StamplineError('INVALID_INPUT', 'no destination', {
      orderIds: ['PO-1', 'PO-2'],
      problems: [{ path: 'destination', reason: 'a licensed installer must name the destination' }],
    });
    expect(refusalProblems(err)).toEqual([
      { orderId: 'PO-1', path: 'destination', reason: 'a licensed installer must name the destination' },
      { orderId: 'PO-2', path: 'destination', reason: 'a licensed installer must name the destination' },
    ]);
  });

  it('gives the problems alone when no order is named, and the message when there are none', () => {
    expect(
      refusalProblems(new StamplineError('INVALID_INPUT', 'bad', { problems: [{ reason: 'no firearms' }] })),
    ).toEqual([{ reason: 'no firearms' }]);
    expect(
      refusalProblems(
        new StamplineError('ORDER_EXISTS', 'an order PO-1 already exists', { orderId: 'PO-1' }),
      ),
    ).toEqual([{ orderId: 'PO-1', reason: 'an order PO-1 already exists' }]);
  });

  it('is no answer for a transient or unexpected failure, which the folder retries', () => {
    expect(refusalProblems(new StamplineError('STORE_UNAVAILABLE', 'disk gone'))).toBeUndefined();
    expect(refusalProblems(new Error('something else'))).toBeUndefined();
  });
});
