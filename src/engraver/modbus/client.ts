/**
 * modbus-serial is CommonJS whose typings declare an ES default export; under NodeNext the default
 * import is the whole `module.exports`, and the client class is its `default` (set at runtime too).
 */
import modbusSerial from 'modbus-serial';

export const ModbusClient = modbusSerial.default;
export type ModbusClient = InstanceType<typeof modbusSerial.default>;
