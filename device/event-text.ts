// One line of text per device event, for people reading a trace or a terminal (the Moddable
// app's log and the PC runner share it).
import type { DeviceEvent } from "./device-events.js";

export function describeDeviceEvent(event: DeviceEvent): string {
  switch (event.event) {
    case "activated":
      return `activated: thing token ${event.token} stored`;
    case "subscribed":
      return "subscribed to the thing: values written to it reach the device";
    case "subscription-lost":
      return `subscription lost (${event.reason}); registering again`;
    case "sent":
      return `platform stored a batch of ${event.count} value(s)`;
    case "command":
      return `command ${event.key} = ${JSON.stringify(event.value)} → level ${event.level} (${event.source})`;
    case "error":
      return `error: ${event.message}`;
    case "setup":
      return `setup: open ${event.url} to set this device up`;
    case "setup-closed":
      return "setup: closed";
  }
}
