import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatEngraverUrl, parseEngraverUrl } from '../../src/engraver/url.js';
import { isStamplineError, type StamplineError } from '../../src/errors.js';

function problem(url: string): string {
  try {
    parseEngraverUrl(url);
  } catch (err) {
    expect(isStamplineError(err, 'ENGRAVER_BAD_URL')).toBe(true);
    return (err as StamplineError).message;
  }
  throw new Error(`${url} was accepted`);
}

describe('engraver URLs', () => {
  it('reads a Modbus TCP URL, with the spec defaults for port and unit', () => {
    expect(parseEngraverUrl('modbus-tcp://10.0.0.5:1502?unit=3')).toEqual({
      transport: 'modbus-tcp',
      host: '10.0.0.5',
      port: 1502,
      unitId: 3,
    });
    expect(parseEngraverUrl('modbus-tcp://engraver.line1')).toMatchObject({ port: 502, unitId: 1 });
    expect(parseEngraverUrl('modbus-tcp://[fe80::1]:502')).toMatchObject({ host: 'fe80::1' });
    expect(parseEngraverUrl('modbus-tcp://h?profile=acme-lx')).toMatchObject({ profile: 'acme-lx' });
  });

  it('reads a Modbus RTU URL, 19200 8N1 unit 1 by default', () => {
    expect(parseEngraverUrl('modbus-rtu:///dev/ttyUSB0')).toEqual({
      transport: 'modbus-rtu',
      path: '/dev/ttyUSB0',
      baudRate: 19200,
      unitId: 1,
      parity: 'none',
      stopBits: 1,
    });
    expect(
      parseEngraverUrl('modbus-rtu:///dev/ttyS1?baud=9600&unit=17&parity=even&stopBits=2'),
    ).toMatchObject({
      baudRate: 9600,
      unitId: 17,
      parity: 'even',
      stopBits: 2,
    });
  });

  it('reads an ASCII serial URL, 115200 by default', () => {
    expect(parseEngraverUrl('ascii-serial:///dev/ttyUSB1')).toEqual({
      transport: 'ascii-serial',
      path: '/dev/ttyUSB1',
      baudRate: 115200,
    });
    expect(parseEngraverUrl('ascii-serial:///dev/pts/4?baud=57600')).toMatchObject({ baudRate: 57600 });
  });

  it.each([
    ['', /empty/],
    ['not a url', /not a URL/],
    ['http://10.0.0.5', /unknown transport "http"/],
    ['modbus-tcp://', /no host/],
    ['modbus-tcp://h:70000', /port 70000/],
    ['modbus-tcp://h:0', /port 0/],
    ['modbus-tcp://h/x', /path "\/x"/],
    ['modbus-tcp://h?uint=2', /unknown parameter "uint"/],
    ['modbus-tcp://h?unit=256', /"unit" is "256"/],
    ['modbus-tcp://h?unit=1&unit=2', /more than once/],
    ['modbus-rtu://dev/ttyUSB0', /empty host/],
    ['modbus-rtu:/dev/ttyUSB0', /three slashes/],
    ['modbus-rtu:///dev/ttyUSB0?baud=12345', /baud rate "12345"/],
    ['modbus-rtu:///dev/ttyUSB0?unit=0', /"unit" is "0", expected an integer 1..247/],
    ['modbus-rtu:///dev/ttyUSB0?parity=mark', /parity "mark"/],
    ['modbus-rtu:///', /no serial device path/],
    ['ascii-serial:///dev/ttyUSB0?unit=1', /unknown parameter "unit"/],
    ['modbus-tcp://user:pw@h', /user name or password/],
  ])('refuses %j, saying what is wrong', (url, why) => {
    expect(problem(url)).toMatch(why);
  });

  it('formats a parsed URL back into one that parses to the same engraver', () => {
    const host = fc.oneof(fc.ipV4(), fc.constantFrom('engraver', 'line-2.local'));
    const tcp = fc.record({
      transport: fc.constant('modbus-tcp' as const),
      host,
      port: fc.integer({ min: 1, max: 65535 }),
      unitId: fc.integer({ min: 0, max: 255 }),
    });
    const rtu = fc.record({
      transport: fc.constant('modbus-rtu' as const),
      path: fc.constantFrom('/dev/ttyUSB0', '/dev/pts/3', '/dev/serial/by-id/usb-FTDI_A1-if00'),
      baudRate: fc.constantFrom(9600, 19200, 115200),
      unitId: fc.integer({ min: 1, max: 247 }),
      parity: fc.constantFrom('none' as const, 'even' as const, 'odd' as const),
      stopBits: fc.constantFrom(1 as const, 2 as const),
    });
    const ascii = fc.record({
      transport: fc.constant('ascii-serial' as const),
      path: fc.constantFrom('/dev/ttyUSB0', '/dev/pts/9'),
      baudRate: fc.constantFrom(9600, 115200),
    });
    fc.assert(
      fc.property(fc.oneof(tcp, rtu, ascii), (parsed) => {
        expect(parseEngraverUrl(formatEngraverUrl(parsed))).toEqual(parsed);
      }),
    );
  });
});
