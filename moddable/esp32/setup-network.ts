// The board's setup/network, in place of the SDK's (examples/manifest_net.json maps it to
// build/devices/esp32/setup/network). That one holds main back until Wi-Fi has an address and
// SNTP has answered, and when the first join fails (access point down, out of range, wrong
// password) it never tries again, so a board that boots without its network would never start:
// no sampling, no buffering. This one lets main start at once; moddable/network-esp32.ts joins
// and rejoins with backoff, and sets the clock by SNTP once there is an address.
export default function setupNetwork(done: () => void): void {
  done();
}
