/**
 * The reference engraver's Modbus application layer: a request PDU (function code and data, no
 * unit id, no CRC or MBAP header) in, a reply PDU out, against one `EngraverDevice`. Both Modbus
 * servers (TCP and RTU) frame around this, so they cannot differ in what they answer.
 */
import { type EngraverDevice, ModbusDeviceBusy, ModbusIllegalAddress } from './device.js';

export const EXCEPTION = {
  ILLEGAL_FUNCTION: 1,
  ILLEGAL_DATA_ADDRESS: 2,
  ILLEGAL_DATA_VALUE: 3,
  SLAVE_DEVICE_FAILURE: 4,
  SLAVE_DEVICE_BUSY: 6,
} as const;

/** Number of coils (start, abort, reset); they read back as off, being commands. */
const COIL_COUNT = 3;

function exception(fc: number, code: number): Buffer {
  return Buffer.from([fc | 0x80, code]);
}

export function handlePdu(device: EngraverDevice, pdu: Buffer): Buffer {
  const fc = pdu[0];
  if (fc === undefined) return exception(0, EXCEPTION.ILLEGAL_FUNCTION);
  try {
    switch (fc) {
      case 1:
        return readCoils(pdu);
      case 3:
        return readHolding(device, pdu);
      case 5:
        return writeCoil(device, pdu);
      case 6:
        return writeRegister(device, pdu);
      case 16:
        return writeRegisters(device, pdu);
      default:
        return exception(fc, EXCEPTION.ILLEGAL_FUNCTION);
    }
  } catch (err) {
    if (err instanceof ModbusDeviceBusy) return exception(fc, EXCEPTION.SLAVE_DEVICE_BUSY);
    if (err instanceof ModbusIllegalAddress) return exception(fc, EXCEPTION.ILLEGAL_DATA_ADDRESS);
    if (err instanceof RangeError) return exception(fc, EXCEPTION.ILLEGAL_DATA_VALUE);
    return exception(fc, EXCEPTION.SLAVE_DEVICE_FAILURE);
  }
}

function readCoils(pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exception(1, EXCEPTION.ILLEGAL_DATA_VALUE);
  const address = pdu.readUInt16BE(1);
  const count = pdu.readUInt16BE(3);
  if (count < 1 || count > 2000) return exception(1, EXCEPTION.ILLEGAL_DATA_VALUE);
  if (address + count > COIL_COUNT) return exception(1, EXCEPTION.ILLEGAL_DATA_ADDRESS);
  const bytes = Math.ceil(count / 8);
  return Buffer.concat([Buffer.from([1, bytes]), Buffer.alloc(bytes)]);
}

function readHolding(device: EngraverDevice, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exception(3, EXCEPTION.ILLEGAL_DATA_VALUE);
  const address = pdu.readUInt16BE(1);
  const count = pdu.readUInt16BE(3);
  if (count < 1 || count > 125) return exception(3, EXCEPTION.ILLEGAL_DATA_VALUE);
  const values = device.readHolding(address, count);
  const reply = Buffer.alloc(2 + 2 * count);
  reply[0] = 3;
  reply[1] = 2 * count;
  values.forEach((v, i) => {
    reply.writeUInt16BE(v, 2 + 2 * i);
  });
  return reply;
}

function writeCoil(device: EngraverDevice, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exception(5, EXCEPTION.ILLEGAL_DATA_VALUE);
  const address = pdu.readUInt16BE(1);
  const value = pdu.readUInt16BE(3);
  if (value !== 0xff00 && value !== 0x0000) return exception(5, EXCEPTION.ILLEGAL_DATA_VALUE);
  device.writeCoil(address, value === 0xff00);
  return Buffer.from(pdu);
}

function writeRegister(device: EngraverDevice, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exception(6, EXCEPTION.ILLEGAL_DATA_VALUE);
  device.writeHolding(pdu.readUInt16BE(1), [pdu.readUInt16BE(3)]);
  return Buffer.from(pdu);
}

function writeRegisters(device: EngraverDevice, pdu: Buffer): Buffer {
  if (pdu.length < 6) return exception(16, EXCEPTION.ILLEGAL_DATA_VALUE);
  const address = pdu.readUInt16BE(1);
  const count = pdu.readUInt16BE(3);
  const bytes = pdu[5]!;
  if (count < 1 || count > 123 || bytes !== 2 * count || pdu.length !== 6 + bytes) {
    return exception(16, EXCEPTION.ILLEGAL_DATA_VALUE);
  }
  const values: number[] = [];
  for (let i = 0; i < count; i++) values.push(pdu.readUInt16BE(6 + 2 * i));
  device.writeHolding(address, values);
  return pdu.subarray(0, 5);
}

/** Length of a complete RTU request frame starting with `frame` (unit, fc, ...), or undefined if not yet known. */
export function rtuRequestLength(frame: Buffer): number | undefined | 'unknown-function' {
  const fc = frame[1];
  if (fc === undefined) return undefined;
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
      return 8;
    case 15:
    case 16: {
      const bytes = frame[6];
      return bytes === undefined ? undefined : 9 + bytes;
    }
    default:
      return 'unknown-function';
  }
}
