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
export { parseKey } from './key.js';
