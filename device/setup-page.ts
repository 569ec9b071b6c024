// The setup page and its status document: plain HTML with a little script, served by the device
// itself (no external resources), a few KB, laid out for a phone. The page works without its
// script (the form posts and the answer is the page again); the script only follows progress on
// the status endpoint. Every text that comes from outside (network names, entered values, the
// platform's messages) is escaped. The thing token and the Wi-Fi password never appear: only the
// token's first four characters.
import type { FormField } from "./setup-form.js";
import type { WifiNetwork } from "./setup-radio.js";

export type StepState = "pending" | "active" | "done" | "failed";

/** What the status endpoint tells (GET /status), and what the page shows. */
export interface SetupStatus {
  /** idle: waiting for the form; working: a submission is being carried out; done; failed. */
  readonly phase: "idle" | "working" | "done" | "failed";
  /** Why setup is open, in words. */
  readonly reason: string;
  readonly steps: readonly { readonly step: "wifi" | "activate" | "subscribe"; readonly state: StepState }[];
  /** The outcome or the step under way ("Activated: thing token NwFb… stored"). */
  readonly message: string;
  /** The last error, verbatim from the platform where it gave one. */
  readonly error: string | undefined;
  /** The token's first four characters and "…", or undefined without a token. */
  readonly token: string | undefined;
  readonly server: string;
  readonly ssid: string | undefined;
  readonly networks: readonly WifiNetwork[];
}

export interface PageView {
  readonly status: SetupStatus;
  /** The page has the Wi-Fi part (the board, on its access point). */
  readonly wifi: boolean;
  /** Values to show again in their fields after a refused submission (never a password). */
  readonly values: Partial<Record<FormField, string>>;
  readonly errors: Partial<Record<FormField, string>>;
  /** The device has a thing token: the code field may stay empty. */
  readonly codeOptional: boolean;
  /** "Forget this device" was done: say so. */
  readonly forgotten?: boolean;
}

const STEP_LABELS = Object.freeze({ wifi: "Joining Wi-Fi", activate: "Activating", subscribe: "Subscribed" });

/** HTML text and attribute values (OWASP: & < > " '). */
export function escapeHtml(text: string): string {
  let out = "";
  for (const character of text) {
    if (character === "&") out += "&amp;";
    else if (character === "<") out += "&lt;";
    else if (character === ">") out += "&gt;";
    else if (character === '"') out += "&quot;";
    else if (character === "'") out += "&#39;";
    else out += character;
  }
  return out;
}

/** The status document (JSON, UTF-8). */
export function renderStatus(status: SetupStatus): string {
  return JSON.stringify({
    phase: status.phase,
    reason: status.reason,
    steps: status.steps,
    message: status.message,
    error: status.error ?? null,
    token: status.token ?? null,
    server: status.server,
    ssid: status.ssid ?? null,
    networks: status.networks,
  });
}

const STYLE =
  "body{font:16px/1.4 system-ui,sans-serif;margin:0 auto;max-width:28rem;padding:1rem;color:#222}" +
  "h1{font-size:1.3rem}label{display:block;margin-top:.8rem;font-weight:600}" +
  "input,select,button{font:inherit;width:100%;box-sizing:border-box;padding:.5rem;margin-top:.2rem}" +
  "button{background:#0a6ebd;color:#fff;border:0;border-radius:4px;margin-top:1rem}" +
  ".err{color:#b00020;font-size:.9rem}.note{font-size:.9rem;color:#555}" +
  "#progress{border:1px solid #ccc;border-radius:4px;padding:.5rem;margin:1rem 0}" +
  "#progress ul{margin:0;padding:0}#progress li{list-style:none}.done::before{content:'✓ '}.active::before{content:'… '}" +
  ".failed::before{content:'✗ '}.pending{color:#888}" +
  "details{margin-top:1rem}.danger{background:#b00020}";

const SCRIPT =
  "(function(){var p=document.getElementById('progress');function show(s){" +
  "var h='<ul>';s.steps.forEach(function(t){h+='<li class=\"'+t.state+'\">'+L[t.step]+'</li>'});" +
  "h+='</ul><p id=\"message\">'+esc(s.message)+'</p>';if(s.error)h+='<p class=\"err\" id=\"error\">'+esc(s.error)+'</p>';" +
  "p.innerHTML=h;document.getElementById('reason').textContent=s.reason;" +
  "if(s.phase==='working')setTimeout(poll,1000)}" +
  "function esc(t){var d=document.createElement('div');d.textContent=t;return d.innerHTML}" +
  "function poll(){fetch('/status',{cache:'no-store'}).then(function(r){return r.json()}).then(show," +
  "function(){p.insertAdjacentHTML('beforeend','<p class=\"note\">The device does not answer now: " +
  "reconnect to its network and reload this page.</p>')})}" +
  "var L=" +
  JSON.stringify(STEP_LABELS) +
  ";if(p.dataset.phase==='working')setTimeout(poll,1000)})();";

function fieldError(view: PageView, name: FormField): string {
  const error = view.errors[name];
  return error === undefined ? "" : `<div class="err" id="${name}-error">${escapeHtml(error)}</div>`;
}

function input(view: PageView, name: FormField, label: string, attributes: string): string {
  const value = name === "password" ? "" : (view.values[name] ?? "");
  const invalid = view.errors[name] === undefined ? "" : ` aria-invalid="true" aria-describedby="${name}-error"`;
  return (
    `<label for="${name}">${label}</label><input id="${name}" name="${name}" value="${escapeHtml(value)}"` +
    ` ${attributes}${invalid}>${fieldError(view, name)}`
  );
}

function progress(status: SetupStatus): string {
  let html = `<div id="progress" data-phase="${status.phase}" role="status" aria-live="polite"><ul>`;
  for (const { step, state } of status.steps) html += `<li class="${state}">${STEP_LABELS[step]}</li>`;
  html += `</ul><p id="message">${escapeHtml(status.message)}</p>`;
  if (status.error !== undefined) html += `<p class="err" id="error">${escapeHtml(status.error)}</p>`;
  return `${html}</div>`;
}

function wifiSection(view: PageView): string {
  const { status } = view;
  const options = status.networks
    .map(
      (network) =>
        `<option value="${escapeHtml(network.ssid)}">${network.secure ? "🔒 " : ""}${network.rssi} dBm</option>`,
    )
    .join("");
  return (
    "<fieldset><legend>Wi-Fi</legend>" +
    input(
      view,
      "ssid",
      "Network name",
      `list="networks" autocomplete="off" maxlength="32"${status.ssid === undefined ? " required" : ""}`,
    ) +
    `<datalist id="networks">${options}</datalist>` +
    '<button type="submit" formaction="/networks" formnovalidate>Scan again</button>' +
    input(view, "password", "Network password", 'type="password" autocomplete="off" maxlength="64"') +
    '<p class="note">Joining moves this access point to your router\'s channel: your phone may drop off. ' +
    "If it does, join this network again and reload the page to see the outcome.</p></fieldset>"
  );
}

function deviceState(status: SetupStatus): string {
  return (
    '<details id="device"><summary>This device</summary><ul>' +
    `<li>Thing token: ${status.token === undefined ? "none" : escapeHtml(status.token)}</li>` +
    `<li>Server: ${escapeHtml(status.server)}</li>` +
    (status.ssid === undefined ? "" : `<li>Wi-Fi network: ${escapeHtml(status.ssid)}</li>`) +
    `<li>Last error: ${status.error === undefined ? "none" : escapeHtml(status.error)}</li></ul>` +
    '<form method="post" action="/forget" onsubmit="return confirm(this.dataset.confirm)" data-confirm="' +
    "Forget this device? This erases the thing token, the Wi-Fi credentials, what was entered here, " +
    'and the values not yet sent to the platform.">' +
    '<input type="hidden" name="confirm" value="yes">' +
    '<p class="note">Erases the thing token, the Wi-Fi credentials, what was entered here and the values ' +
    "not yet sent. The device then needs a new activation code.</p>" +
    '<button class="danger" type="submit">Forget this device</button></form></details>'
  );
}

/** The whole page. */
export function renderPage(view: PageView): string {
  const { status } = view;
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1"><title>Set up this device</title>' +
    `<style>${STYLE}</style></head><body><h1>Set up this device</h1>` +
    `<p class="note" id="reason">${escapeHtml(status.reason)}</p>` +
    (view.forgotten === true ? '<p id="forgotten">This device was forgotten: give it a new activation code.</p>' : "") +
    progress(status) +
    '<form method="post" action="/" accept-charset="utf-8" novalidate>' +
    (view.wifi ? wifiSection(view) : "") +
    input(
      view,
      "activationCode",
      "Activation code",
      `autocomplete="off" autocapitalize="off" spellcheck="false" maxlength="128"${view.codeOptional ? "" : " required"}`,
    ) +
    (view.codeOptional ? '<p class="note">Leave empty to keep this device\'s thing.</p>' : "") +
    input(view, "productId", "Product ID (optional)", 'autocomplete="off" autocapitalize="off" maxlength="128"') +
    "<details><summary>Advanced</summary>" +
    input(
      view,
      "server",
      "Platform server",
      `placeholder="${escapeHtml(status.server)}" autocomplete="off" autocapitalize="off"`,
    ) +
    "</details>" +
    '<button type="submit" id="submit">Save and connect</button></form>' +
    deviceState(status) +
    `<script>${SCRIPT}</script></body></html>`
  );
}
