/**
 * A stroke font for the 32 symbols of the code, on a grid 4 wide and 6 high (y down). The pin
 * face is marking artwork: its characters must look the same on every machine and be cut as
 * laser strokes, so they are drawn as paths rather than set in a font the viewer may not have.
 * Zero is slashed so that it cannot be taken for D or Q.
 */
export const GLYPHS: Record<string, string> = {
  '0': 'M1 0L3 0L4 1L4 5L3 6L1 6L0 5L0 1ZM3.6 1.2L0.4 4.8',
  '1': 'M1 1L2 0L2 6M1 6L3 6',
  '2': 'M0 1L1 0L3 0L4 1L4 2L0 6L4 6',
  '3': 'M0 0L4 0L2 2.5L3 2.5L4 3.5L4 5L3 6L1 6L0 5',
  '4': 'M3 6L3 0L0 4L4 4',
  '5': 'M4 0L0 0L0 2.5L3 2.5L4 3.5L4 5L3 6L0 6',
  '6': 'M3 0L1 0L0 1L0 5L1 6L3 6L4 5L4 3.5L3 2.5L0 2.5',
  '7': 'M0 0L4 0L1.5 6',
  '8': 'M1 0L3 0L4 1L4 2L3 3L1 3L0 2L0 1ZM1 3L0 4L0 5L1 6L3 6L4 5L4 4L3 3',
  '9': 'M4 3.5L1 3.5L0 2.5L0 1L1 0L3 0L4 1L4 5L3 6L1 6',
  A: 'M0 6L0 2L2 0L4 2L4 6M0 3.5L4 3.5',
  B: 'M0 3L3 3L4 2L4 1L3 0L0 0L0 6L3 6L4 5L4 4L3 3',
  C: 'M4 1L3 0L1 0L0 1L0 5L1 6L3 6L4 5',
  D: 'M0 0L2.5 0L4 1.5L4 4.5L2.5 6L0 6Z',
  E: 'M4 0L0 0L0 6L4 6M0 3L3 3',
  F: 'M4 0L0 0L0 6M0 3L3 3',
  G: 'M4 1L3 0L1 0L0 1L0 5L1 6L3 6L4 5L4 3.5L2 3.5',
  H: 'M0 0L0 6M4 0L4 6M0 3L4 3',
  J: 'M4 0L4 5L3 6L1 6L0 5',
  K: 'M0 0L0 6M4 0L0 4M1.3 2.7L4 6',
  M: 'M0 6L0 0L2 3L4 0L4 6',
  N: 'M0 6L0 0L4 6L4 0',
  P: 'M0 6L0 0L3 0L4 1L4 2L3 3L0 3',
  Q: 'M1 0L3 0L4 1L4 5L3 6L1 6L0 5L0 1ZM2.5 4.5L4 6',
  R: 'M0 6L0 0L3 0L4 1L4 2L3 3L0 3M2 3L4 6',
  S: 'M4 1L3 0L1 0L0 1L0 2L1 3L3 3L4 4L4 5L3 6L1 6L0 5',
  T: 'M0 0L4 0M2 0L2 6',
  V: 'M0 0L2 6L4 0',
  W: 'M0 0L1 6L2 3L3 6L4 0',
  X: 'M0 0L4 6M4 0L0 6',
  Y: 'M0 0L2 3L4 0M2 3L2 6',
  Z: 'M0 0L4 0L0 6L4 6',
};
