// The firmware's version, reported in device.boot. The same as package.json's "version": a test
// (test/node/manifest.test.ts) keeps the two equal, and mcconfig builds read it from here.
export const FIRMWARE_VERSION = "0.1.0";
