/** The microstamp code library (spec/codes.md): everything other modules may call. */
export { ALPHABET } from './alphabet.js';
export {
  type Codeword,
  encode,
  formatText,
  GEAR_LENGTH,
  INDEX_MAX,
  ISSUER_MAX,
  SYNC,
  TEXT_LENGTH,
} from './codeword.js';
export {
  type Candidate,
  type DecodeFailure,
  type DecodeResult,
  type DecodeSuccess,
  MAX_MISCORRECTION_RISK,
} from './decode.js';
export { type DecodeOptions, decodeReads } from './decode-reads.js';
export { type Grade, gradeFromUec } from './grade.js';
export { issuedDensity } from './identify.js';
export {
  type IssuedCodes,
  type IssuedFileOptions,
  IssuedSet,
  parseIssuedFile,
  RegistryOfSize,
} from './issued.js';
export { parseKey } from './key.js';
export { DEFAULT_READ_MODEL, type ReadModel } from './model.js';
export type { Read } from './reads.js';
export { type PinSvgOptions, renderPinSvg } from './svg.js';
