// The first hour of two new site admins, with only the consoles (issue 15):
// two sites made as README command 1 makes them (`init --domain D` and
// `run` with no configuration: every default, the public address chosen by
// init), each in a network namespace of its own (the defaults' ports would
// collide on one host; each console is at its default 127.0.0.1:8443 in its
// namespace, so each site gets a Chromium started in that namespace). The
// admins log in, pair the sites by invite through both consoles, add a
// phone user each; a baresip phone of each site (registered to
// 127.0.0.1:5060, as a phone on the site's host would) calls the other
// site's phone and both consoles show the call; alice's SIP password is
// changed in the console and her phone registers with the new one (and not
// with the old); the peer is revoked (beta's console sees itself refused) and
// removed in the console.
//
// Needs root (ip netns), iproute2, baresip and chromium; otherwise it says
// why and skips. Environment: SIPSITE_BIN, CHROMIUM, SCREENSHOT_DIR, and
// SIPSITE_SCREENSHOTS (a directory such as docs/images: the steps the admin
// guide shows also go there, under the names docs/ADMIN.md uses).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { chromium } from "playwright-core";

const BIN = path.resolve(process.env.SIPSITE_BIN || "sipsite");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = process.env.SCREENSHOT_DIR || path.join(process.cwd(), "screenshots");
const DOC_SHOTS = process.env.SIPSITE_SCREENSHOTS ? path.resolve(process.env.SIPSITE_SCREENSHOTS) : "";
const HERE = path.dirname(new URL(import.meta.url).pathname);
const CONSOLE_PASSWORD = "a long new console password";
const NET = "203.0.113";  // TEST-NET-3, only inside this test's own namespaces
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sipsite-first-hour-"));
const cleanups = [];

after(async () => {
  for (const c of cleanups.reverse()) {
    try { await c(); } catch (e) { console.error(`cleanup: ${e.message}`); }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: "utf8", timeout: 60000, ...opts });
}

function whyNot() {
  if (process.getuid() !== 0) return "needs root (network namespaces)";
  for (const tool of ["ip", "baresip", "python3"]) {
    try { sh("sh", ["-c", `command -v ${tool}`]); } catch { return `'${tool}' is not installed`; }
  }
  if (!fs.existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM}`;
  const probe = `sshprobe${process.pid}`;
  try { sh("ip", ["netns", "add", probe]); } catch (e) { return `'ip netns add' fails here: ${e.message}`; }
  sh("ip", ["netns", "del", probe]);
  return "";
}

// Two namespaces joined by one link: alpha at .10, beta at .20.
function topology() {
  const names = { alpha: `sshour${process.pid}-a`, beta: `sshour${process.pid}-b` };
  for (const ns of Object.values(names)) {
    sh("ip", ["netns", "add", ns]);
    cleanups.push(() => sh("ip", ["netns", "del", ns]));
    sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
  }
  sh("ip", ["-n", names.alpha, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", names.beta]);
  for (const [site, host] of [["alpha", 10], ["beta", 20]]) {
    sh("ip", ["-n", names[site], "addr", "add", `${NET}.${host}/24`, "dev", "eth0"]);
    sh("ip", ["-n", names[site], "link", "set", "eth0", "up"]);
  }
  return names;
}

function spawnIn(ns, args, opts = {}) {
  const proc = spawn("ip", ["netns", "exec", ns, ...args], opts);
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      await new Promise((resolve) => { proc.once("exit", resolve); setTimeout(resolve, 10000); });
    }
  });
  return proc;
}

// README command 1: init with the domain only, then run with no configuration.
async function startSite(name, ns) {
  const dir = path.join(tmp, name);
  const out = sh("ip", ["netns", "exec", ns, BIN, "init", "--domain", `${name}.example`, "--state-dir", dir]);
  const password = /^admin password: (\S+)$/m.exec(out)[1];
  const env = { ...process.env };
  delete env.NOTIFY_SOCKET;
  delete env.CREDENTIALS_DIRECTORY;
  const proc = spawnIn(ns, [BIN, "run", "--state-dir", dir], { env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout.on("data", (d) => { log += d; });
  proc.stderr.on("data", (d) => { log += d; });
  const deadline = Date.now() + 30000;
  while (!/\bready\b/.test(log)) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`${name} did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name, ns, dir, password, initOutput: out, log: () => log };
}

// The call records as the database holds them (for a failure's message).
function cdrsInDatabase(site) {
  const key = fs.readFileSync(path.join(site.dir, "db.key"), "utf8").trim();
  const sql = `PRAGMA key = "x'${key}'";\nPRAGMA cipher_page_size = 4096;\n` +
    "SELECT caller_aor, callee_aor, direction, answered_at, ended_at, end_reason FROM cdrs;\n";
  try { return sh("sqlcipher", [path.join(site.dir, "sipsite.db")], { input: sql }); } catch (e) { return `${e.message}`; }
}

// A Chromium in the site's namespace, where its console is at 127.0.0.1:8443.
async function browserIn(ns) {
  const wrapper = path.join(tmp, `chromium-${ns}`);
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  const browser = await chromium.launch({
    executablePath: wrapper,
    headless: true,
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  cleanups.push(() => browser.close());
  return browser;
}

const URL_ = "https://127.0.0.1:8443/";

async function openConsole(browser) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.problems = [];
  page.on("pageerror", (e) => page.problems.push(`page error: ${e.message}`));
  // The namespace's veth is still settling when the first page loads (its
  // IPv6 link-local address appears a moment after the link comes up), and
  // Chromium aborts a navigation with ERR_NETWORK_CHANGED when it sees that.
  // A few bounded retries; any other error fails at once.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(URL_);
      break;
    } catch (e) {
      if (attempt >= 5 || !String(e.message).includes("ERR_NETWORK_CHANGED")) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return page;
}

async function shot(page, name, doc = "") {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `first-hour-${name}.png`), fullPage: true });
  if (doc && DOC_SHOTS) {
    fs.mkdirSync(DOC_SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(DOC_SHOTS, `${doc}.png`), fullPage: true });
  }
}

async function waitForText(page, locator, pattern, timeout = 30000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const text = (await locator.count()) ? await locator.first().innerText() : "";
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`never matched ${pattern}: ${JSON.stringify(text)}`);
    await page.waitForTimeout(250);
  }
}

// As waitForText, for a page that shows what it loaded when opened: opens
// it again (by way of the dashboard: following the link of the page shown
// does not reload it) until it matches.
async function waitForTextReopening(page, name, locator, pattern, timeout = 30000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    await go(page, "dashboard");
    await go(page, name);
    const text = (await locator.count()) ? await locator.first().innerText() : "";
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`never matched ${pattern}: ${JSON.stringify(text)}`);
    await page.waitForTimeout(500);
  }
}

async function go(page, name) {
  await page.click(`nav a[data-page="${name}"]`);
  await page.locator(`#page-${name}`).waitFor();
}

async function firstLogin(page, site) {
  await page.locator("#page-login").waitFor();
  await page.fill("#login-password", site.password);
  await page.click("#login-form button[type=submit]");
  await page.locator("#page-password").waitFor();
  await page.fill("#pw-current", site.password);
  await page.fill("#pw-new", CONSOLE_PASSWORD);
  await page.fill("#pw-repeat", CONSOLE_PASSWORD);
  await page.click("#password-form button[type=submit]");
  await page.locator("#page-dashboard").waitFor();
  await page.locator("#dash-fingerprint:not(:empty)").waitFor();
}

async function addUser(page, user, password) {
  await go(page, "users");
  await page.fill("#user-aor", user);
  await page.fill("#user-password", password);
  await page.click("#user-form button[type=submit]");
  await waitForText(page, page.locator("#users-table tbody"), new RegExp(`${user}@`));
}

// A baresip phone in namespace `ns` (tests/e2e/browser/phone_agent.py).
function phone(ns, aor, password) {
  const proc = spawnIn(ns, ["python3", path.join(HERE, "phone_agent.py"), aor, password],
    { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d; });
  const lines = readline.createInterface({ input: proc.stdout });
  const answers = [];
  let waiting = null;
  lines.on("line", (l) => { if (waiting) { const w = waiting; waiting = null; w(l); } else answers.push(l); });
  const ask = (cmd) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${aor}: no answer to ${JSON.stringify(cmd)}\n${stderr}`)), 90000);
    const done = (l) => { clearTimeout(timer); const a = JSON.parse(l); a.ok ? resolve(a) : reject(new Error(`${aor}: ${a.error}`)); };
    if (answers.length) done(answers.shift()); else waiting = done;
    proc.stdin.write(JSON.stringify(cmd) + "\n");
  });
  return {
    aor,
    registered: (timeout = 30) => ask({ do: "registered", timeout }),
    dial: (uri) => ask({ do: "dial", uri }),
    wait: (event, timeout = 30) => ask({ do: "wait", event, timeout }),
    accept: () => ask({ do: "accept" }),
    hangup: () => ask({ do: "hangup" }),
    quit: async () => { try { await ask({ do: "quit" }); } catch { /* already gone */ } },
  };
}

// One call from `caller` to `callee`'s AOR; both consoles show it live.
async function call(caller, callee, consoles) {
  await caller.dial(`sip:${callee.aor}`);
  await callee.wait("CALL_INCOMING", 60);
  await callee.accept();
  await caller.wait("CALL_ESTABLISHED", 60);
  await callee.wait("CALL_ESTABLISHED", 60);
  for (const [page, peer] of consoles) {
    await go(page, "calls");
    const row = page.locator(`#live-calls-table tbody tr[data-domain="${peer}"]`);
    for (let i = 0; i < 40 && !/\b1\b/.test(await row.locator(".calls").innerText().catch(() => "")); ++i) {
      await page.waitForTimeout(250);
      await go(page, "calls");
    }
    assert.equal(await row.locator(".calls").innerText(), "1", `${peer}: one live call shown`);
  }
  await caller.hangup();
  await caller.wait("CALL_CLOSED");
  await callee.wait("CALL_CLOSED");
}

const why = whyNot();
test("the first hour with only the consoles: defaults, pairing by invite, a call each way, a password change, removal",
  { timeout: 300000, skip: why ? `first-hour browser test cannot run here: ${why}` : false }, async () => {
    const ns = topology();
    const alphaSite = await startSite("alpha", ns.alpha);
    const betaSite = await startSite("beta", ns.beta);
    // init chose the first non-loopback address, and said so.
    assert.match(alphaSite.initOutput, new RegExp(`^public address: ${NET}\\.10\\b`, "m"));
    assert.match(betaSite.initOutput, new RegExp(`^public address: ${NET}\\.20\\b`, "m"));
    const alpha = await openConsole(await browserIn(ns.alpha));
    const beta = await openConsole(await browserIn(ns.beta));

    await firstLogin(alpha, alphaSite);
    await firstLogin(beta, betaSite);
    const alphaInvite = await alpha.inputValue("#dash-invite");
    const betaInvite = await beta.inputValue("#dash-invite");
    assert.match(alphaInvite, new RegExp(`^sipsite:invite\\?v=1&domain=alpha\\.example&address=${NET}\\.10:5062&fp=`));
    assert.match(betaInvite, new RegExp(`&address=${NET}\\.20:5062&`));
    await shot(alpha, "alpha-dashboard");

    // Beta's admin pastes alpha's invite; alpha's admin trusts the pending request.
    await go(beta, "peers");
    await beta.fill("#import-invite", alphaInvite);
    await beta.click("#import-form button[type=submit]");
    await beta.locator("#verify-panel").waitFor();
    const pairing = await beta.innerText("#verify-pairing");
    await beta.check("#verify-check");
    await beta.click("#verify-trust");
    await go(alpha, "peers");
    const pending = alpha.locator('#pending-table tbody tr[data-domain="beta.example"]');
    await waitForText(alpha, pending, new RegExp(pairing), 60000);
    await pending.getByRole("button", { name: "Verify and trust" }).click();
    assert.equal(await alpha.innerText("#verify-pairing"), pairing);
    await alpha.fill("#verify-address", /address=([^&]+)/.exec(betaInvite)[1]);
    await alpha.check("#verify-check");
    await alpha.click("#verify-trust");
    const betaRow = alpha.locator('#peers-table tbody tr[data-domain="beta.example"]');
    const alphaRow = beta.locator('#peers-table tbody tr[data-domain="alpha.example"]');
    await waitForText(alpha, betaRow.locator(".link-state"), /connected/, 60000);
    await waitForText(beta, alphaRow.locator(".link-state"), /connected/, 60000);
    await shot(alpha, "alpha-sites-connected");

    // A phone user on each site, and a phone of each registered.
    await addUser(alpha, "alice", "alice first SIP password");
    await addUser(beta, "bob", "bob SIP password");
    let alice = phone(ns.alpha, "alice@alpha.example", "alice first SIP password");
    const bob = phone(ns.beta, "bob@beta.example", "bob SIP password");
    await alice.registered();
    await bob.registered();
    await go(alpha, "registrations");
    await waitForText(alpha, alpha.locator("#regs-table tbody"), /alice@alpha\.example/);
    await shot(alpha, "alpha-registrations", "10-registrations");

    // A call each way; both consoles count it while it lasts, and record it.
    await call(alice, bob, [[alpha, "beta.example"], [beta, "alpha.example"]]);
    await call(bob, alice, [[beta, "alpha.example"], [alpha, "beta.example"]]);
    // Each call recorded on alpha once it ended: answered, with its duration.
    const records = await waitForTextReopening(alpha, "calls", alpha.locator("#cdrs-table tbody"),
      /^(?![\s\S]*in progress)[\s\S]*bob@beta\.example[\s\S]*bob@beta\.example/).catch((e) => {
      throw new Error(`${e.message}\n--- alpha's database ---\n${cdrsInDatabase(alphaSite)}\n--- alpha's log ---\n${alphaSite.log().slice(-6000)}\n--- beta's log ---\n${betaSite.log().slice(-4000)}`);
    });
    assert.doesNotMatch(records, /not answered/);
    await shot(alpha, "alpha-calls", "11-calls");

    // Alice's SIP password changed in the console: her phone needs the new one.
    await alice.quit();
    await go(alpha, "users");
    await alpha.locator('#users-table tbody tr[data-aor="alice@alpha.example"]')
      .getByRole("button", { name: "Change password of alice@alpha.example" }).click();
    await alpha.locator("#passwd-panel").waitFor();
    await alpha.fill("#passwd-password", "alice second SIP password");
    await alpha.click("#passwd-form button[type=submit]");
    await waitForText(alpha, alpha.locator("#message"), /^The password of alice@alpha\.example is changed\.$/);
    const stale = phone(ns.alpha, "alice@alpha.example", "alice first SIP password");
    await assert.rejects(stale.registered(10), /not registered/);
    await stale.quit();
    alice = phone(ns.alpha, "alice@alpha.example", "alice second SIP password");
    await alice.registered();
    await call(alice, bob, [[alpha, "beta.example"]]);

    // Alpha's admin revokes beta, then removes it; beta's console sees the refusal.
    await go(alpha, "peers");
    alpha.once("dialog", (d) => d.accept());
    await betaRow.getByRole("button", { name: "Revoke beta.example" }).click();
    await waitForText(alpha, betaRow.locator(".state"), /^revoked$/);
    await go(beta, "peers");
    await waitForText(beta, alphaRow.locator(".link-state"), /refused/, 60000).catch((e) => {
      throw new Error(`${e.message}\n--- alpha's log ---\n${alphaSite.log().slice(-5000)}\n--- beta's log ---\n${betaSite.log().slice(-5000)}`);
    });
    alpha.once("dialog", (d) => d.accept());
    await betaRow.getByRole("button", { name: "Remove beta.example" }).click();
    await waitForText(alpha, alpha.locator("#message"), /^beta\.example is removed\.$/);
    await shot(alpha, "alpha-removed", "12-removed");
    await go(alpha, "audit");
    await waitForText(alpha, alpha.locator("#audit-table tbody"), /peer\.remove/);
    await waitForText(alpha, alpha.locator("#audit-table tbody"), /user\.password_change/);

    await alice.quit();
    await bob.quit();
    for (const page of [alpha, beta]) assert.deepEqual(page.problems, []);
  });
