// The setup button, read once at boot: held (pressed) opens setup. The BOOT button of ESP32
// DevKits pulls GPIO 0 to ground when pressed, so the pin is read with the pull-up and low means
// held; the pin is released at once, it may also be a strapping pin or shared.
import Digital from "embedded:io/digital";

/** GPIO 0: the BOOT button of ESP32 DevKits, where the board's description names no button. */
export const BOOT_BUTTON_PIN = 0;

export function isButtonHeld(pin: number): boolean {
  let digital: Digital | undefined;
  try {
    digital = new Digital({ pin, mode: Digital.InputPullUp });
    return digital.read() === 0;
  } catch {
    // A pin that cannot be read (used by a sensor, not wired) is no request for setup.
    return false;
  } finally {
    digital?.close();
  }
}
