// sipsite admin console. Plain JavaScript, no external requests; every text
// from the server goes through textContent (never innerHTML).
"use strict";

const state = { csrf: null, username: null, pendingVerify: null, passwdAor: null, peersOffset: 0, peersQuery: "", peersState: "", usersOffset: 0, auditOffset: 0, cdrsOffset: 0, messagesOffset: 0 };
const PAGE = 50;
const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = {};
  if (method !== "GET") headers["X-CSRF-Token"] = state.csrf || "";
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 204) return null;
  const type = res.headers.get("Content-Type") || "";
  const data = type.startsWith("application/json") ? await res.json() : await res.text();
  if (!res.ok) {
    const err = (data && data.error) || {};
    if (res.status === 401 && path !== "/api/v1/session") showLogin();
    if (err.code === "password_change_required") showPage("password");
    throw new ApiError(res.status, err.code || "error", err.message || `request failed (${res.status})`);
  }
  return data;
}

// News go to the polite live region, errors to the alert one (announced at
// once); both stay in the page and are only emptied.
function say(text, isError) {
  $("message").textContent = isError ? "" : text;
  $("error").textContent = isError ? text : "";
}

function fail(err) {
  say(err.message || String(err), true);
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return e;
}

function fillTable(tableId, emptyId, rows, toRow) {
  const table = $(tableId);
  const body = table.querySelector("tbody");
  body.replaceChildren(...rows.map(toRow));
  if (emptyId) {
    $(emptyId).hidden = rows.length > 0;
    table.hidden = rows.length === 0;
  }
}

function pager(id, page, onMove) {
  const p = $(id);
  const more = page.has_more !== undefined ? page.has_more : page.offset + page.items.length < page.total;
  const prev = el("button", { type: "button", class: "secondary small" }, "Previous");
  prev.disabled = page.offset === 0;
  prev.addEventListener("click", () => onMove(Math.max(0, page.offset - PAGE)));
  const next = el("button", { type: "button", class: "secondary small" }, "Next");
  next.disabled = !more;
  next.addEventListener("click", () => onMove(page.offset + PAGE));
  const where = page.total !== undefined ? `${page.items.length ? page.offset + 1 : 0}–${page.offset + page.items.length} of ${page.total}` : "";
  p.replaceChildren(prev, next, el("span", { class: "hint" }, where));
}

// --- pages

const PAGES = ["login", "password", "dashboard", "peers", "users", "registrations", "calls", "audit", "settings", "tokens"];

function showPage(name) {
  for (const p of PAGES) $("page-" + p).hidden = p !== name;
  const inApp = name !== "login" && name !== "password";
  $("nav").hidden = !inApp;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.page === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const heading = $("page-" + name).querySelector("h1");
  if (heading) document.title = heading.textContent + " – sipsite";
  return heading;
}

function showLogin() {
  state.csrf = null;
  $("pending-banner").hidden = true;
  $("pending-badge").hidden = true;
  showPage("login");
  $("login-password").value = "";
  $("login-password").focus();
}

// Pending requests are noticed on every page: a count on the Sites link and
// a banner, which names an impostor (a request claiming a trusted site's
// domain under another key) first.
async function refreshPending() {
  const pending = await api("GET", "/api/v1/peers/pending?limit=100");
  const impostors = pending.items.filter((r) => r.impostor);
  $("pending-badge").hidden = pending.total === 0;
  $("pending-badge").textContent = String(pending.total);
  $("pending-badge").title = `${pending.total} pending request(s)`;
  const banner = $("pending-banner");
  banner.hidden = pending.total === 0;
  banner.classList.toggle("danger", impostors.length > 0);
  banner.textContent = impostors.length
    ? `Warning: a site claiming ${impostors[0].claimed_domain}, a site you trust, connected with another key. ` +
      "Do not trust it before you have called that site's admin (Sites)."
    : `${pending.total} site(s) asked to pair with this one: check their fingerprint with their admin before trusting them (Sites).`;
}

async function route() {
  const name = (location.hash.replace(/^#\//, "") || "dashboard").split("?")[0];
  const loaders = { dashboard: loadDashboard, peers: loadPeers, users: loadUsers, registrations: loadRegistrations, calls: loadCalls, audit: loadAudit, settings: () => Promise.all([loadSettings(), loadNetwork()]), tokens: loadTokens };
  const load = loaders[name] || loadDashboard;
  const heading = showPage(loaders[name] ? name : "dashboard");
  // Keyboard and screen-reader users land on the new page, not on the link.
  if (heading && document.activeElement && document.activeElement.closest("nav")) heading.focus();
  say("");
  refreshPending().catch(() => {});
  try {
    await load();
  } catch (e) {
    if (e.status !== 401 && e.code !== "password_change_required") fail(e);
  }
}

async function loadDashboard() {
  const site = await api("GET", "/api/v1/site");
  $("site-domain").textContent = site.domain;
  $("dash-domain").textContent = site.domain;
  $("dash-fingerprint").textContent = site.fingerprint_grouped || site.fingerprint;
  $("dash-fingerprint").title = site.fingerprint;
  $("dash-not-after").textContent = site.certificate_not_after ? utc(site.certificate_not_after) : "";
  $("dash-invite").value = site.invite;
  $("dash-qr").src = "/api/v1/site/invite.svg";
  checkOwnAddress();
  const [peers, users, regs, pending, calls] = await Promise.all([
    api("GET", "/api/v1/peers?limit=500"),
    api("GET", "/api/v1/users?limit=1"),
    api("GET", "/api/v1/registrations?limit=1"),
    api("GET", "/api/v1/peers/pending?limit=1"),
    api("GET", "/api/v1/calls"),
  ]);
  const trusted = peers.counts ? peers.counts.trusted : peers.items.filter((p) => p.state === "trusted").length;
  const connected = peers.items.filter((p) => p.links && p.links.length).length;
  $("dash-peers").textContent = `${peers.total} (${trusted} trusted, ${connected} connected)`;
  $("dash-calls").textContent = calls.total;
  $("dash-users").textContent = users.total;
  $("dash-regs").textContent = regs.total;
  $("dash-pending").textContent = pending.total;
}

// Whether the invite's address leads back to this site (it may take a few
// seconds: the rest of the dashboard does not wait for it).
async function checkOwnAddress() {
  const box = $("dash-address-check");
  try {
    const check = await api("GET", "/api/v1/site/address-check");
    box.textContent = check.reaches_this_site ? "" : "Other sites may not reach this one: " + check.detail;
    box.hidden = check.reaches_this_site;
  } catch (e) {
    box.hidden = true;
  }
}

// A fingerprint as people read it (grouped), with the colon form (what the
// command line and the API take) offered for copying.
function fingerprintCell(p) {
  const copy = el("button", {
    type: "button", class: "small secondary copy", title: p.fingerprint, "aria-label": "Copy the fingerprint of " + (p.domain || p.claimed_domain),
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(p.fingerprint);
        say("Fingerprint copied (colon form).");
      } catch (e) { fail(e); }
    },
  }, "Copy");
  return el("td", { class: "fingerprint-cell" }, el("code", { class: "fingerprint", title: p.fingerprint }, p.fingerprint_grouped || p.fingerprint), " ", copy);
}

function stateCell(s) {
  return el("td", {}, el("span", { class: "state state-" + s }, s));
}

// The one time format wherever a time is shown: "2026-12-02 07:10:36 UTC".
const utc = (t) => (t ? t.replace("T", " ").replace("Z", " UTC") : "–");

// One live link in words: "incoming link from 192.0.2.7:5062 since …".
function linkWords(k) {
  const dir = k.direction === "inbound" ? "incoming link from " : "outgoing link to ";
  return dir + k.remote + (k.since ? ", up since " + utc(k.since) : "");
}

// The connection column: "connected" while any link carries SIP (either
// direction), else what this site's own dialling says, in plain words.
function linkCell(p) {
  const l = p.link;
  const links = p.links || [];
  if (links.length) {
    const cell = el("td", { class: "link-state link-connected" }, "connected");
    const list = el("ul", { class: "links hint" });
    for (const k of links) list.append(el("li", { class: "link" }, linkWords(k)));
    cell.append(list);
    if (l && l.rtt_ms >= 0) cell.append(el("div", { class: "hint" }, `round trip ${l.rtt_ms} ms`));
    return cell;
  }
  if (!l) {
    if (p.state !== "trusted") return el("td", { class: "link-state" }, "–");
    return el("td", { class: "link-state link-waiting" }, p.address
      ? "not connected"
      : "not connected: no address is known here, so this site waits for the other one to connect");
  }
  const words = { connected: "connected", connecting: "connecting…", refused_by_peer: "refused by the other site", unreachable: "unreachable" };
  const cell = el("td", { class: "link-state link-" + l.state }, words[l.state] || l.state);
  if (l.rtt_ms >= 0) cell.append(el("div", { class: "hint" }, `round trip ${l.rtt_ms} ms`));
  if (l.last_seen) cell.append(el("div", { class: "hint" }, "last seen " + utc(l.last_seen)));
  if (l.detail && l.state !== "connected") cell.append(el("div", { class: "hint" }, l.detail));
  return cell;
}

function callsCell(p) {
  if (p.state !== "trusted") return el("td", { class: "calls" }, "–");
  return el("td", { class: "calls" }, p.calls ? `${p.calls} now` : "none");
}

function openVerify(peer, viaPending) {
  state.pendingVerify = { fingerprint: peer.fingerprint, pending: viaPending };
  $("verify-domain").textContent = peer.domain || peer.claimed_domain;
  $("verify-fingerprint").textContent = peer.fingerprint_grouped || peer.fingerprint;
  $("verify-pairing").textContent = peer.pairing_code || "";
  $("verify-check").checked = false;
  $("verify-address-row").hidden = !viaPending;
  $("verify-address").value = "";
  $("verify-trust").disabled = true;
  $("verify-panel").hidden = false;
  $("verify-check").focus();
}

async function loadPeers() {
  // A page of PAGE sites, searched by the server (thousands of sites stay usable).
  const q = new URLSearchParams({ offset: state.peersOffset, limit: PAGE });
  if (state.peersQuery) q.set("q", state.peersQuery);
  if (state.peersState) q.set("state", state.peersState);
  const [peers, pending] = await Promise.all([api("GET", `/api/v1/peers?${q}`), api("GET", "/api/v1/peers/pending?limit=500")]);
  const c = peers.counts || {};
  $("peers-counts").textContent = `${c.all ?? peers.total} sites: ${c.trusted ?? 0} trusted, ${c.untrusted ?? 0} untrusted, ${c.revoked ?? 0} revoked` +
    (state.peersQuery || state.peersState ? ` — ${peers.total} match` : "");
  pager("peers-pager", peers, (o) => { state.peersOffset = o; loadPeers().catch(fail); });
  fillTable("peers-table", "peers-empty", peers.items, (p) => {
    const actions = el("td", { class: "actions" });
    if (p.state !== "trusted") {
      actions.append(el("button", { type: "button", class: "small", onclick: () => openVerify(p, false) }, "Verify and trust"));
    }
    if (p.state !== "trusted") {
      actions.append(el("button", {
        type: "button", class: "small danger", "aria-label": "Remove " + p.domain,
        onclick: async () => {
          if (!confirm(`Remove ${p.domain}? It is forgotten here; if it connects again it shows as a pending request.`)) return;
          try {
            await api("DELETE", `/api/v1/peers/${encodeURIComponent(p.fingerprint)}`);
            say(`${p.domain} is removed.`);
            await loadPeers();
          } catch (e) { fail(e); }
        },
      }, "Remove"));
    }
    if (p.state !== "revoked") {
      actions.append(el("button", {
        type: "button", class: "small danger", "aria-label": "Revoke " + p.domain,
        onclick: async () => {
          if (!confirm(`Revoke ${p.domain}? Its connections are closed at once and refused from now on.`)) return;
          try {
            await api("POST", `/api/v1/peers/${encodeURIComponent(p.fingerprint)}/revoke`);
            say(`${p.domain} is revoked.`);
            await loadPeers();
          } catch (e) { fail(e); }
        },
      }, "Revoke"));
    }
    return el("tr", { "data-domain": p.domain }, el("td", {}, p.domain), stateCell(p.state), linkCell(p), callsCell(p), el("td", {}, p.address || "–"),
      el("td", {}, p.pairing_code || ""), fingerprintCell(p), actions);
  });
  fillTable("pending-table", "pending-empty", pending.items, (r) => {
    const actions = el("td", { class: "actions" },
      el("button", { type: "button", class: "small", onclick: () => openVerify(r, true) }, "Verify and trust"),
      el("button", {
        type: "button", class: "small secondary",
        onclick: async () => {
          if (!confirm(`Ignore requests from ${r.claimed_domain}? They will be refused without notice.`)) return;
          try {
            await api("POST", `/api/v1/peers/pending/${encodeURIComponent(r.fingerprint)}/ignore`);
            await loadPeers();
          } catch (e) { fail(e); }
        },
      }, "Ignore"));
    return el("tr", { "data-domain": r.claimed_domain, class: r.impostor ? "impostor" : "" }, el("td", {}, r.claimed_domain),
      el("td", {}, r.source_address), el("td", {}, r.attempts), el("td", {}, r.pairing_code || ""),
      el("td", { class: "warning" }, r.impostor ? "Impostor? This domain is a site you trust, with another key." : ""),
      actions);
  });
  showPendingSummary(pending.since_start);
}

// What the list cannot show when many unknown certificates knock (a scan):
// how many handshakes were refused and what became of them.
function showPendingSummary(s) {
  const summary = $("pending-summary");
  summary.hidden = !s || s.handshakes === 0;
  if (summary.hidden) return;
  const since = new Date(s.since * 1000).toLocaleString();
  let text = `Since the daemon started (${since}): ${s.handshakes} handshake(s) from certificates not trusted here; ` +
    `${s.new_requests} written as new requests, ${s.repeats} as repeated attempts, ${s.ignored} from ignored sites, ` +
    `${s.not_recorded} not recorded (at most 30 are written a minute, one a minute per site).`;
  if (s.dropped > 0) text += ` ${s.dropped} older request(s) were dropped to make room: the list keeps the 100 seen last.`;
  summary.textContent = text;
}

async function loadUsers() {
  const page = await api("GET", `/api/v1/users?offset=${state.usersOffset}&limit=${PAGE}`);
  fillTable("users-table", "users-empty", page.items, (u) =>
    el("tr", { "data-aor": u.aor }, el("td", {}, u.aor), el("td", {}, utc(u.created_at)),
      el("td", { class: "actions" }, el("button", {
        type: "button", class: "small", "aria-label": "Change password of " + u.aor,
        onclick: () => openPasswd(u.aor),
      }, "Change password"), el("button", {
        type: "button", class: "small danger", "aria-label": "Delete " + u.aor,
        onclick: async () => {
          if (!confirm(`Delete ${u.aor}? Their phone can no longer register, and their stored messages and call records are deleted too.`)) return;
          try {
            await api("DELETE", `/api/v1/users/${encodeURIComponent(u.aor)}`);
            say(`${u.aor} is deleted.`);
            await loadUsers();
          } catch (e) { fail(e); }
        },
      }, "Delete"))));
  pager("users-pager", page, (o) => { state.usersOffset = o; loadUsers().catch(fail); });
}

async function loadRegistrations() {
  const page = await api("GET", "/api/v1/registrations?limit=500");
  fillTable("regs-table", "regs-empty", page.items, (r) =>
    el("tr", {}, el("td", {}, r.aor), el("td", {}, el("code", {}, r.contact)), el("td", {}, r.transport),
      el("td", {}, r.source), el("td", {}, `${r.expires_in} s`)));
}

const when = utc;
const DIRECTIONS = { local: "local", outgoing: "to another site", incoming: "from another site" };

function duration(s) {
  if (s === null || s === undefined) return "–";
  if (s < 1) return "under 1 s";  // answered and ended within the second
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? `${h} h ` : "") + (h || m ? `${m} min ` : "") + `${sec} s`;
}

// A call record's media protection, in words (empty while unknown).
function mediaText(c) {
  const m = c.media || {};
  if (m.end_to_end && m.end_to_end !== "none") return `end to end (${m.end_to_end === "zrtp" ? "ZRTP" : "DTLS-SRTP"})`;
  const lan = m.lan === "srtp" ? ", encrypted on the LAN" : m.lan === "plain" ? ", in clear on the LAN" : "";
  if (m.inter_site === "srtp") return `encrypted between sites${lan}; the two sites could hear it`;
  if (m.end_to_end === "none") return `relayed by this site${lan}`;
  return "–";
}

function callResult(c) {
  if (!c.ended_at) return "in progress";
  const status = c.final_status ? String(c.final_status) : "";
  return [status, c.end_reason].filter(Boolean).join(" – ") || "ended";
}

async function loadCdrs() {
  const q = new URLSearchParams({ offset: state.cdrsOffset, limit: PAGE });
  const aor = $("calls-aor").value.trim();
  const direction = $("calls-direction").value;
  if (aor) q.set("aor", aor);
  if (direction) q.set("direction", direction);
  const page = await api("GET", `/api/v1/cdrs?${q}`);
  $("calls-retention").textContent = `Call records are kept ${page.retention_days} days, then deleted.`;
  $("cdrs-empty").textContent = aor || direction
    ? "No call matches this filter. Clear the user and set the direction to any to see every call."
    : page.offset > 0 ? "No more calls." :
      `No calls recorded. A call shows here once it ends; records older than ${page.retention_days} days are deleted.`;
  fillTable("cdrs-table", "cdrs-empty", page.items, (c) =>
    el("tr", {}, el("td", {}, when(c.started_at)), el("td", {}, c.caller), el("td", {}, c.callee),
      el("td", {}, (DIRECTIONS[c.direction] || c.direction) + (c.peer_domain ? ` (${c.peer_domain})` : "")),
      el("td", {}, c.answered_at ? duration(c.duration_s) : "not answered"), el("td", {}, callResult(c)),
      el("td", { class: "media" }, mediaText(c))));
  pager("cdrs-pager", page, (o) => { state.cdrsOffset = o; loadCdrs().catch(fail); });
}

async function loadMessages() {
  const page = await api("GET", `/api/v1/messages?offset=${state.messagesOffset}&limit=${PAGE}`);
  $("messages-retention").textContent = `Messages for users who were offline, delivered when they register. ` +
    `Undelivered ones are deleted after ${page.retention_days} days. Their contents are never shown here.`;
  fillTable("messages-table", "messages-empty", page.items, (m) =>
    el("tr", {}, el("td", {}, when(m.created_at)), el("td", {}, m.recipient), el("td", {}, m.sender),
      el("td", {}, m.content_type), el("td", {}, `${m.size} bytes`), el("td", {}, when(m.expires_at))));
  pager("messages-pager", page, (o) => { state.messagesOffset = o; loadMessages().catch(fail); });
}

async function loadLiveCalls() {
  const live = await api("GET", "/api/v1/calls");
  const n = live.counters;
  $("live-counters").textContent = `Since the daemon started: ${n.sent} messages sent to other sites, ${n.received} received, ` +
    `${n.refused} refused by the privacy and identity checks, ${n.rate_limited} over the rate limit, ` +
    `${n.revoked_calls} calls ended by a revocation. Calls between this site's own phones are not counted here.`;
  const empty = $("live-calls-empty");
  empty.textContent = live.peers.length === 0
    ? "No site is trusted yet, so no call can cross to another site. Pair one on the Sites page."
    : "";
  fillTable("live-calls-table", "live-calls-empty", live.peers, (p) =>
    el("tr", { "data-domain": p.domain }, el("td", {}, p.domain),
      el("td", { class: p.connected ? "link-connected" : "" }, p.connected ? "connected" : "not connected"),
      el("td", { class: "calls" }, p.calls ? String(p.calls) : "none")));
  if (live.peers.length && live.total === 0) {
    $("live-counters").prepend("No call with another site right now. ");
  }
  fillRelayedCalls(live);
}

// Who could hear a call, in words: the leg between the sites is always
// encrypted; the relaying sites hear it unless the phones encrypt end to end.
function protectionText(call) {
  const p = call.protection || {};
  if (p.end_to_end && p.end_to_end !== "none") {
    return `only the two phones (end to end: ${p.end_to_end === "zrtp" ? "ZRTP" : "DTLS-SRTP"})`;
  }
  const who = (p.readable_by || []).join(" and ");
  const between = p.inter_site === "srtp" ? "; encrypted between the sites" : "";
  const lan = p.lan === "srtp" ? "; encrypted on this site's LAN" : "; in clear on this site's LAN";
  return who + between + lan;
}

function lossText(d) {
  return d.loss == null ? "–" : `${(d.loss * 100).toFixed(1)} %`;
}

// The relay's calls: one row per stream (m= line). No addresses: the API has none.
function fillRelayedCalls(live) {
  const relay = live.relay;
  const srtp = relay && relay.srtp;
  const refused = srtp ? srtp.auth_failed + srtp.replayed + srtp.foreign : 0;
  $("relay-summary").textContent = relay
    ? `${relay.calls} call(s) relayed now, ${relay.free_ports} media ports free; ` +
      `${relay.expired} call(s) ended by the relay because their media stopped or they were never answered. ` +
      `Between sites every call is encrypted (SRTP); ${refused} forged, replayed or foreign packet(s) dropped` +
      (srtp && srtp.refused_sdp ? `, ${srtp.refused_sdp} call offer(s) from other sites refused without a media key.` : ".")
    : "The media relay is not running yet.";
  $("relay-calls-empty").textContent = "No call is being relayed right now.";
  const rows = [];
  for (const c of live.media || []) {
    for (const s of c.streams) rows.push({ call: c, stream: s });
  }
  fillTable("relay-calls-table", "relay-calls-empty", rows, ({ call, stream: s }) => {
    const local = call.scope === "local";
    const ends = [s.lan.latched ? (local ? "calling phone" : "phone") : null,
      s.peer.latched ? (local ? "called phone" : "other site") : null].filter(Boolean);
    const dropped = s.lan.dropped + s.peer.dropped;
    return el("tr", { "data-call": call.id }, el("td", {}, el("code", {}, call.id)), el("td", {}, s.media),
      el("td", { class: "packets-out" }, String(s.lan_to_peer.packets)),
      el("td", { class: "packets-in" }, String(s.peer_to_lan.packets)),
      el("td", {}, `${lossText(s.lan_to_peer)} / ${lossText(s.peer_to_lan)}`),
      el("td", {}, (ends.length ? ends.join(" and ") : "none yet") + (dropped ? ` (${dropped} packets refused)` : "")),
      el("td", { class: "protection" }, protectionText(call)),
      el("td", {}, duration(call.age_s)));
  });
}

async function loadCalls() {
  await Promise.all([loadLiveCalls(), loadCdrs(), loadMessages()]);
}

const SETTING_DAYS = ["cdr_days", "message_days", "signaling_log_days", "audit_days", "pending_request_days"];
const SETTING_FLAGS = ["store_ip", "signaling_log_enabled", "keep_cdrs_on_user_delete"];

function showSettings(s) {
  for (const k of SETTING_DAYS) $("set-" + k).value = s[k];
  for (const k of SETTING_FLAGS) $("set-" + k).checked = !!s[k];
}

async function loadSettings() {
  $("settings-unavailable").hidden = true;
  $("settings-form").hidden = false;
  try {
    showSettings(await api("GET", "/api/v1/settings"));
  } catch (e) {
    // Never show a form of made-up values that saving would write back.
    $("settings-form").hidden = true;
    $("settings-unavailable").hidden = false;
    throw e;
  }
}

async function onSaveSettings(ev) {
  ev.preventDefault();
  const body = {};
  for (const k of SETTING_DAYS) body[k] = Number($("set-" + k).value);
  for (const k of SETTING_FLAGS) body[k] = $("set-" + k).checked;
  try {
    showSettings(await api("PUT", "/api/v1/settings", body));
    say("Settings saved.");
  } catch (e) {
    fail(e);
  }
}

// The network settings: one field per key, a list one value per line.
const NETWORK_LABELS = {
  "site.public_address": "Public address (HOST or HOST:PORT)",
  "sip.udp": "SIP over UDP (ADDRESS:PORT, one per line; empty turns it off)",
  "sip.tcp": "SIP over TCP (ADDRESS:PORT, one per line; empty turns it off)",
  "sip.tls": "SIP over TLS (ADDRESS:PORT, one per line; empty turns it off)",
  "federation.listen": "Federation listener (ADDRESS:PORT)",
  "media.ports": "Media relay ports (FIRST-LAST)",
  "sip.aliases": "Other names of this site (one per line)",
};
const NETWORK_SOURCES = { file: "set in the configuration file", stored: "set here", default: "default" };

function networkFieldId(key) {
  return "net-" + key.replace(/\./g, "-");
}

function showNetwork(view) {
  state.network = view;
  const fields = view.items.map((s) => {
    const id = networkFieldId(s.key);
    const input = s.list ? el("textarea", { id, rows: 2, spellcheck: "false" }) : el("input", { id, type: "text", spellcheck: "false" });
    input.value = s.value.join("\n");
    input.disabled = !s.editable;
    let note = NETWORK_SOURCES[s.source] || s.source;
    if (s.restart_needed) note += `; restart needed (running now: ${s.running.length ? s.running.join(", ") : "none"})`;
    return el("div", { class: "network-field" },
      el("label", { for: id }, NETWORK_LABELS[s.key] || s.key, " ", el("code", {}, s.key)),
      input,
      el("p", { class: "hint", id: id + "-note" }, note));
  });
  $("network-fields").replaceChildren(...fields);
  $("network-restart").hidden = !view.restart_needed;
}

async function loadNetwork() {
  $("network-unavailable").hidden = true;
  $("network-form").hidden = false;
  try {
    showNetwork(await api("GET", "/api/v1/settings/network"));
  } catch (e) {
    $("network-form").hidden = true;
    $("network-unavailable").hidden = false;
    throw e;
  }
}

async function onSaveNetwork(ev) {
  ev.preventDefault();
  const body = {};
  for (const s of state.network.items) {
    if (!s.editable) continue;
    const lines = $(networkFieldId(s.key)).value.split("\n").map((l) => l.trim()).filter((l) => l);
    if (lines.join("\n") === s.value.join("\n")) continue;
    if (s.list) body[s.key] = lines;
    else body[s.key] = lines.length ? lines[0] : null;
  }
  try {
    showNetwork(await api("PUT", "/api/v1/settings/network", body));
    say(state.network.restart_needed ? "Network settings saved; they apply after a restart of the daemon." : "Network settings saved.");
  } catch (e) {
    fail(e);
  }
}

async function loadAudit() {
  const page = await api("GET", `/api/v1/audit?offset=${state.auditOffset}&limit=${PAGE}`);
  fillTable("audit-table", "audit-empty", page.items, (e) =>
    el("tr", {}, el("td", {}, utc(e.at)), el("td", {}, e.actor), el("td", {}, e.source),
      el("td", {}, e.action), el("td", {}, e.detail)));
  pager("audit-pager", page, (o) => { state.auditOffset = o; loadAudit().catch(fail); });
}

async function loadTokens() {
  const page = await api("GET", "/api/v1/tokens");
  fillTable("tokens-table", "tokens-empty", page.items, (t) =>
    el("tr", {}, el("td", {}, t.name), el("td", {}, t.created_by), el("td", {}, utc(t.created_at)), el("td", {}, t.last_used ? utc(t.last_used) : "never"),
      el("td", {}, el("button", {
        type: "button", class: "small danger", "aria-label": "Revoke token " + t.name,
        onclick: async () => {
          if (!confirm(`Revoke the token ${t.name}? Scripts using it stop working at once.`)) return;
          try {
            await api("DELETE", `/api/v1/tokens/${t.id}`);
            await loadTokens();
          } catch (e) { fail(e); }
        },
      }, "Revoke"))));
}

async function onCreateToken(ev) {
  ev.preventDefault();
  try {
    const t = await api("POST", "/api/v1/tokens", { name: $("token-name").value.trim() });
    $("token-form").reset();
    const p = $("token-created");
    p.replaceChildren(`Token ${t.name} (shown once, copy it now): `, el("code", { id: "token-value" }, t.token));
    p.hidden = false;
    await loadTokens();
  } catch (e) {
    fail(e);
  }
}

// --- forms

async function onLogin(ev) {
  ev.preventDefault();
  say("");
  try {
    const r = await api("POST", "/api/v1/session", { username: $("login-username").value, password: $("login-password").value });
    state.csrf = r.csrf_token;
    state.username = r.username;
    $("login-password").value = "";
    if (r.must_change_password) {
      showPage("password");
      $("pw-current").focus();
    } else {
      await route();
    }
  } catch (e) {
    fail(e);
  }
}

async function onPassword(ev) {
  ev.preventDefault();
  if ($("pw-new").value !== $("pw-repeat").value) {
    say("The two new passwords differ.", true);
    return;
  }
  try {
    await api("PUT", "/api/v1/session/password", { current: $("pw-current").value, new: $("pw-new").value });
    for (const id of ["pw-current", "pw-new", "pw-repeat"]) $(id).value = "";
    location.hash = "#/dashboard";
    await route();
    say("Password changed.");
  } catch (e) {
    fail(e);
  }
}

async function onImport(ev) {
  ev.preventDefault();
  const body = {};
  const invite = $("import-invite").value.trim();
  const pem = $("import-pem").value.trim();
  const address = $("import-address").value.trim();
  if (invite) body.invite = invite;
  if (pem) body.pem = pem;
  if (address) body.address = address;
  say(invite && !pem ? "Fetching the site's certificate…" : "");
  try {
    const peer = await api("POST", "/api/v1/peers", body);
    $("import-form").reset();
    say(`${peer.domain} added (not trusted yet). Verify its fingerprint.`);
    await loadPeers();
    openVerify(peer, false);
  } catch (e) {
    fail(e);
  }
}

async function onTrust() {
  const v = state.pendingVerify;
  if (!v || !$("verify-check").checked) return;
  try {
    const body = { confirm_fingerprint: v.fingerprint };
    const address = $("verify-address").value.trim();
    if (v.pending && address) body.address = address;
    const peer = await api("POST", `/api/v1/peers/${encodeURIComponent(v.fingerprint)}/trust`, body);
    $("verify-panel").hidden = true;
    state.pendingVerify = null;
    // A pending request means the other site dialled this one, which it
    // does only for sites it trusts: no need to ask its admin.
    say(v.pending ? `${peer.domain} is trusted; it had already trusted this site.`
      : `${peer.domain} is trusted. Its admin must trust this site too.`);
    await loadPeers();
  } catch (e) {
    fail(e);
  }
}

function openPasswd(aor) {
  state.passwdAor = aor;
  $("passwd-aor").textContent = aor;
  $("passwd-form").reset();
  $("passwd-panel").hidden = false;
  $("passwd-password").focus();
}

async function onChangeUserPassword(ev) {
  ev.preventDefault();
  const aor = state.passwdAor;
  if (!aor) return;
  try {
    await api("PUT", `/api/v1/users/${encodeURIComponent(aor)}/password`, { password: $("passwd-password").value });
    $("passwd-form").reset();
    $("passwd-panel").hidden = true;
    state.passwdAor = null;
    say(`The password of ${aor} is changed.`);
  } catch (e) {
    fail(e);
  }
}

async function onAddUser(ev) {
  ev.preventDefault();
  const body = { aor: $("user-aor").value.trim() };
  if ($("user-password").value) body.password = $("user-password").value;
  try {
    const u = await api("POST", "/api/v1/users", body);
    $("user-form").reset();
    const g = $("user-generated");
    g.hidden = !u.password;
    g.textContent = u.password ? `Password for ${u.aor}: ${u.password} — shown once; give it to the user now.` : "";
    say(`${u.aor} added.`);
    await loadUsers();
  } catch (e) {
    fail(e);
  }
}

async function onLogout() {
  try { await api("DELETE", "/api/v1/session"); } catch (e) { /* already gone */ }
  showLogin();
}

async function start() {
  // The skip link focuses the content without touching the #/route.
  $("skip").addEventListener("click", (ev) => {
    ev.preventDefault();
    const page = document.querySelector("main > section:not([hidden]) h1");
    (page || $("main")).focus();
  });
  $("login-form").addEventListener("submit", onLogin);
  $("password-form").addEventListener("submit", onPassword);
  $("import-form").addEventListener("submit", onImport);
  $("peers-search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.peersQuery = $("peers-q").value.trim();
    state.peersState = $("peers-state").value;
    state.peersOffset = 0;
    loadPeers().catch(fail);
  });
  $("user-form").addEventListener("submit", onAddUser);
  $("passwd-form").addEventListener("submit", onChangeUserPassword);
  $("passwd-cancel").addEventListener("click", () => { $("passwd-form").reset(); $("passwd-panel").hidden = true; });
  $("token-form").addEventListener("submit", onCreateToken);
  $("settings-form").addEventListener("submit", onSaveSettings);
  $("network-form").addEventListener("submit", onSaveNetwork);
  $("calls-filter").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.cdrsOffset = 0;
    loadCdrs().catch(fail);
  });
  $("logout").addEventListener("click", onLogout);
  $("verify-check").addEventListener("change", () => { $("verify-trust").disabled = !$("verify-check").checked; });
  $("verify-trust").addEventListener("click", onTrust);
  $("verify-cancel").addEventListener("click", () => { $("verify-panel").hidden = true; });
  $("copy-invite").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("dash-invite").value);
      say("Invite copied.");
    } catch (e) {
      $("dash-invite").select();
      say("Select and copy the invite by hand (the browser refused the clipboard).", true);
    }
  });
  window.addEventListener("hashchange", () => { if (state.csrf) route(); });
  // The link of the page shown changes no hash: it reloads the page instead.
  document.querySelectorAll("nav a[data-page]").forEach((a) => a.addEventListener("click", () => {
    if (a.getAttribute("href") === location.hash && state.csrf) route();
  }));
  // Sites page: links and pending requests change by themselves.
  setInterval(() => {
    if (!$("page-peers").hidden && $("verify-panel").hidden && state.csrf) loadPeers().catch(() => {});
    if (!$("page-calls").hidden && state.csrf) loadLiveCalls().catch(() => {});
    // Not while the one-time password must be changed: the API refuses
    // everything else then (403), and the page would log the refusal.
    if (state.csrf && $("page-password").hidden) refreshPending().catch(() => {});
  }, 3000);
  try {
    const s = await api("GET", "/api/v1/session");
    state.csrf = s.csrf_token;
    state.username = s.username;
    if (s.must_change_password) showPage("password");
    else await route();
  } catch (e) {
    showLogin();
  }
}

document.addEventListener("DOMContentLoaded", start);
