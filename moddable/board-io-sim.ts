// The simulator target's board IO: the manifest maps "moddable/board-io" here on lin, mac and win
// (and leaves this file out of the ESP32 build). The simulator has no Digital, PWM, Analog or
// I2C, so its board IO is the portable one in device/simulated-board-io.ts.
import { simulatedBoardIo } from "../device/simulated-board-io.js";

export default simulatedBoardIo;
