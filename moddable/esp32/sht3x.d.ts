// Types for Moddable's SHT3x driver ($(MODDABLE)/modules/drivers/sensors/sht3x), which ships as
// JavaScript without typings. Shape per its source: the IO bag is spread into the I2C
// constructor (default address 0x44, 1 MHz); sample() nests the readings by sensor class and
// leaves out a reading whose CRC failed.
declare module "embedded:sensor/Humidity-Temperature/SHT3x" {
  import type I2C from "embedded:io/i2c";

  export interface SHT3xSample {
    thermometer: { temperature?: number };
    hygrometer: { humidity?: number };
  }

  export default class SHT3x {
    constructor(options: {
      sensor: { io: typeof I2C; data: number; clock: number; address?: number; hz?: number; port?: number };
      onError?: (message: string) => void;
    });
    configure(options: object): void;
    sample(): SHT3xSample;
    close(): void;
  }
}
