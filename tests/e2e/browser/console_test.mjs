// The admin console in headless Chromium (Debian's, driven by playwright-core):
// first login and forced password change on two real sites, pairing them
// entirely through their consoles (invite -> verify -> trust on both sides)
// until both show the link connected (with the live link listed per peer and
// on the Calls page), adding a user, revoking the peer, a network setting
// stored for the next start; along the way the UI
// is served gzip-compressed, errors are announced (role=alert), every form
// field has a label and keyboard navigation moves focus to the new page.
// Screenshots of each page go to $SCREENSHOT_DIR (ctest: the build tree).
//
// Environment: SIPSITE_BIN (the daemon), CHROMIUM (default /usr/bin/chromium),
// SCREENSHOT_DIR (default ./screenshots), SIPSITE_SCREENSHOTS (unset: nothing
// more; a directory such as docs/images: the main steps also go there under
// the names docs/ADMIN.md uses; CI leaves it unset).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const BIN = process.env.SIPSITE_BIN || "sipsite";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = process.env.SCREENSHOT_DIR || path.join(process.cwd(), "screenshots");
const DOC_SHOTS = process.env.SIPSITE_SCREENSHOTS ? path.resolve(process.env.SIPSITE_SCREENSHOTS) : "";
const NEW_PASSWORD = "a long new console password";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sipsite-browser-"));
const cleanups = [];

after(async () => {
  for (const c of cleanups.reverse()) await c();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function sipsite(dir, ...args) {
  return execFileSync(BIN, [...args, "--state-dir", dir], { encoding: "utf8", timeout: 60000 });
}

async function startSite(name) {
  const dir = path.join(tmp, name);
  const out = sipsite(dir, "init", "--domain", `${name}.example`);
  const password = /^admin password: (\S+)$/m.exec(out)[1];
  const config = path.join(tmp, `${name}.toml`);
  fs.writeFileSync(config, '[site]\npublic_address = "127.0.0.1"\n[federation]\nlisten = "127.0.0.1:0"\n' +
    '[sip]\nudp = ["127.0.0.1:0"]\ntcp = ["127.0.0.1:0"]\ntls = ["127.0.0.1:0"]\n[admin]\nlisten = "127.0.0.1:0"\n');
  const env = { ...process.env };
  delete env.NOTIFY_SOCKET;
  delete env.CREDENTIALS_DIRECTORY;
  const proc = spawn(BIN, ["run", "--state-dir", dir, "--config", config], { env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout.on("data", (d) => { log += d; });
  proc.stderr.on("data", (d) => { log += d; });
  cleanups.push(async () => {
    if (proc.exitCode === null) {
      proc.kill("SIGTERM");
      await new Promise((resolve) => proc.once("exit", resolve));
    }
  });
  const deadline = Date.now() + 20000;
  while (!/\bready\b/.test(log)) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`${name} did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(/listening admin\/https 127\.0\.0\.1:(\d+)/.exec(log)[1]);
  return { name, dir, password, port, url: `https://127.0.0.1:${port}/`, log: () => log };
}

// `doc`: the image's name in docs/images, for the steps the admin guide shows.
async function shot(page, name, doc = "") {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  if (doc && DOC_SHOTS) {
    fs.mkdirSync(DOC_SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(DOC_SHOTS, `${doc}.png`), fullPage: true });
  }
}

// One browser context per site: cookies are per host, not per port.
async function openConsole(browser, site) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.problems = [];
  page.on("console", (m) => { if (m.type() === "error") page.problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => page.problems.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    if (!r.url().startsWith(site.url)) page.problems.push(`request outside the site: ${r.url()}`);
  });
  page.encodings = {};
  page.on("response", async (r) => {
    const name = new URL(r.url()).pathname;
    if (["/", "/app.js", "/style.css"].includes(name)) page.encodings[name] = (await r.allHeaders())["content-encoding"] || "";
  });
  await page.goto(site.url);
  return page;
}

async function firstLogin(page, site) {
  await page.locator("#page-login").waitFor();
  await page.fill("#login-password", site.password);
  await shot(page, `${site.name}-01-login`, site.name === "alpha" ? "01-login" : "");
  await page.click("#login-form button[type=submit]");
  await page.locator("#page-password").waitFor();
  await page.fill("#pw-current", site.password);
  await page.fill("#pw-new", NEW_PASSWORD);
  await page.fill("#pw-repeat", NEW_PASSWORD);
  await shot(page, `${site.name}-02-password-change`, site.name === "alpha" ? "02-password-change" : "");
  await page.click("#password-form button[type=submit]");
  await page.locator("#page-dashboard").waitFor();
  await page.locator("#dash-fingerprint:not(:empty)").waitFor();
}

async function peerRow(page, domain) {
  return page.locator(`#peers-table tbody tr[data-domain="${domain}"]`);
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

// The live links each console lists for the other site, once each lists
// exactly one and one side's is outgoing while the other's is incoming; the
// last reading if that never happens within `timeout`.
async function settledLinkPair(alpha, beta, timeout) {
  const linkPattern = /^(incoming link from|outgoing link to) 127\.0\.0\.1:\d+, up since /;
  const linksOf = async (page, domain) =>
    (await (await peerRow(page, domain)).locator(".link-state li").allInnerTexts()).filter((t) => linkPattern.test(t));
  const deadline = Date.now() + timeout;
  for (;;) {
    const onAlpha = await linksOf(alpha, "beta.example");
    const onBeta = await linksOf(beta, "alpha.example");
    const settled = onAlpha.length === 1 && onBeta.length === 1 &&
      onAlpha[0].split(" ")[0] !== onBeta[0].split(" ")[0];
    if (settled || Date.now() > deadline) return [onAlpha.join("; "), onBeta.join("; ")];
    await alpha.waitForTimeout(500);
  }
}

test("first login, pairing two sites through their consoles, users and revocation", { timeout: 180000 }, async () => {
  const alphaSite = await startSite("alpha");
  const betaSite = await startSite("beta");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  cleanups.push(() => browser.close());
  const alpha = await openConsole(browser, alphaSite);
  const beta = await openConsole(browser, betaSite);

  // First login: the one-time password is replaced before anything else.
  await firstLogin(alpha, alphaSite);
  await firstLogin(beta, betaSite);
  const alphaFp = sipsite(alphaSite.dir, "fingerprint").trim();
  assert.equal((await alpha.innerText("#dash-fingerprint")).replace(/\s/g, ""), alphaFp.replace(/:/g, ""));
  const alphaInvite = await alpha.inputValue("#dash-invite");
  const betaInvite = await beta.inputValue("#dash-invite");
  assert.match(alphaInvite, /^sipsite:invite\?v=1&domain=alpha\.example&address=127\.0\.0\.1:\d+&fp=/);
  assert.ok(await alpha.evaluate(() => document.getElementById("dash-qr").naturalWidth > 0), "QR code shown");
  await shot(alpha, "alpha-03-dashboard", "03-dashboard");
  // The browser asked for gzip, and the console's files came compressed.
  assert.deepEqual(alpha.encodings, { "/": "gzip", "/app.js": "gzip", "/style.css": "gzip" });

  // Every form field has a label (its own <label>, or aria-label).
  const unlabelled = await alpha.evaluate(() => [...document.querySelectorAll("input, select, textarea")]
    .filter((e) => e.labels.length === 0 && !e.getAttribute("aria-label")).map((e) => e.id || e.outerHTML));
  assert.deepEqual(unlabelled, []);
  // Keyboard: following a menu link with Enter moves the focus to the new page's heading.
  await alpha.focus('nav a[data-page="users"]');
  await alpha.keyboard.press("Enter");
  await alpha.locator("#page-users").waitFor();
  await waitForText(alpha, alpha.locator("#page-users h1"), /^Users$/);
  const focused = async () => alpha.evaluate(() => document.activeElement && document.activeElement.textContent);
  for (let i = 0; i < 40 && (await focused()) !== "Users"; ++i) await alpha.waitForTimeout(50);
  assert.equal(await focused(), "Users");

  // Beta's admin adds alpha from its invite, verifies the fingerprint, trusts.
  await beta.click('nav a[data-page="peers"]');
  await beta.locator("#page-peers").waitFor();
  await beta.locator("#peers-empty").waitFor();
  await shot(beta, "beta-04-sites-empty", "04-sites-empty");
  // A bad invite is refused with an error announced at once (role=alert).
  await beta.fill("#import-invite", "not an invite");
  await beta.click("#import-form button[type=submit]");
  await waitForText(beta, beta.locator("#error"), /\S/);
  assert.equal(await beta.getAttribute("#error", "role"), "alert");
  // That 400 was the point; the browser logs it as a failed load.
  beta.problems = beta.problems.filter((p) => !/status of 400/.test(p));
  await beta.fill("#import-invite", alphaInvite);
  await beta.click("#import-form button[type=submit]");
  await beta.locator("#verify-panel").waitFor();
  assert.equal((await beta.innerText("#verify-fingerprint")).replace(/\s/g, ""), alphaFp.replace(/:/g, ""));
  assert.ok(await beta.isDisabled("#verify-trust"), "trust needs the verification checkbox");
  const pairingOnBeta = await beta.innerText("#verify-pairing");
  assert.match(pairingOnBeta, /^\d{4} \d{4} \d{4}$/);
  await beta.check("#verify-check");
  await shot(beta, "beta-05-verify", "05-verify");
  await beta.click("#verify-trust");
  await waitForText(beta, (await peerRow(beta, "alpha.example")).locator(".state"), /^trusted$/);
  // Alpha has not trusted beta yet: beta's admin is told to ask for it.
  await waitForText(beta, beta.locator("#message"), /^alpha\.example is trusted\. Its admin must trust this site too\.$/);

  // Alpha sees beta's attempt as a pending request with the same pairing
  // code, verifies and trusts it (with beta's address from its invite).
  await alpha.click('nav a[data-page="peers"]');
  const pending = alpha.locator('#pending-table tbody tr[data-domain="beta.example"]');
  await waitForText(alpha, pending, new RegExp(pairingOnBeta), 30000);
  // Below the list, what became of the handshakes refused (beta's dialler
  // may have knocked more than once; one request was written).
  await waitForText(alpha, alpha.locator("#pending-summary"),
    /^Since the daemon started \(.+\): \d+ handshake\(s\) from certificates not trusted here; 1 written as new requests, 0 as repeated attempts, 0 from ignored sites, \d+ not recorded /);
  await pending.getByRole("button", { name: "Verify and trust" }).click();
  assert.equal(await alpha.innerText("#verify-pairing"), pairingOnBeta);
  await alpha.fill("#verify-address", /address=([^&]+)/.exec(betaInvite)[1]);
  await alpha.check("#verify-check");
  await shot(alpha, "alpha-05-pending-verify", "06-pending-verify");
  await alpha.click("#verify-trust");
  await waitForText(alpha, (await peerRow(alpha, "beta.example")).locator(".state"), /^trusted$/);
  // Beta dialled alpha, so it trusts alpha already: no request to its admin.
  await waitForText(alpha, alpha.locator("#message"), /^beta\.example is trusted; it had already trusted this site\.$/);
  // The fingerprint as read aloud (grouped), the colon form to copy.
  const betaFp = sipsite(betaSite.dir, "fingerprint").trim();
  const fpCell = (await peerRow(alpha, "beta.example")).locator("code.fingerprint");
  assert.equal((await fpCell.innerText()).replace(/\s/g, ""), betaFp.replace(/:/g, ""));
  assert.doesNotMatch(await fpCell.innerText(), /:/);
  assert.equal(await fpCell.getAttribute("title"), betaFp);

  // Both consoles show the link connected (the page refreshes itself).
  await waitForText(alpha, (await peerRow(alpha, "beta.example")).locator(".link-state"), /connected/, 60000);
  await waitForText(beta, (await peerRow(beta, "alpha.example")).locator(".link-state"), /connected/, 60000);
  // Each side lists the live link it shares with the other (one link per
  // pair: dialled by one site, accepted by the other), and no call yet.
  // When both sites dial at once, each briefly holds its own outgoing link
  // until the canonical one supersedes the other (and a page shows what it
  // loaded up to 3 s ago), so the pair is read until it has settled.
  const [linkOnAlpha, linkOnBeta] = await settledLinkPair(alpha, beta, 60000);
  assert.match(linkOnAlpha, /^(incoming link from|outgoing link to) [^;]+$/, "alpha lists one link with beta");
  assert.match(linkOnBeta, /^(incoming link from|outgoing link to) [^;]+$/, "beta lists one link with alpha");
  assert.notEqual(linkOnAlpha.split(" ")[0], linkOnBeta.split(" ")[0], "one side dialled, the other accepted");
  assert.equal(await (await peerRow(alpha, "beta.example")).locator(".calls").innerText(), "none");
  await shot(alpha, "alpha-06-sites-connected", "07-sites-connected");
  await shot(beta, "beta-06-sites-connected");

  // The Calls page: the peer connected, no call with it now, plain words.
  await alpha.click('nav a[data-page="calls"]');
  const liveRow = alpha.locator('#live-calls-table tbody tr[data-domain="beta.example"]');
  await waitForText(alpha, liveRow, /beta\.example\s+connected\s+none/);
  await waitForText(alpha, alpha.locator("#live-counters"), /^No call with another site right now\. Since the daemon started: /);
  await waitForText(alpha, alpha.locator("#cdrs-empty"), /^No calls recorded\. A call shows here once it ends/);
  await shot(alpha, "alpha-06-calls");

  // A user added in the console is a user for the CLI and the daemon.
  await alpha.click('nav a[data-page="users"]');
  await alpha.locator("#users-empty").waitFor();
  await alpha.fill("#user-aor", "alice");
  await alpha.fill("#user-password", "alice-sip-password");
  await alpha.click("#user-form button[type=submit]");
  await waitForText(alpha, alpha.locator("#users-table tbody"), /alice@alpha\.example/);
  await shot(alpha, "alpha-07-users", "08-users");
  assert.match(sipsite(alphaSite.dir, "user", "list"), /alice@alpha\.example/);

  // Her SIP password changed from her row; she stays a user.
  await alpha.locator('#users-table tbody tr[data-aor="alice@alpha.example"]')
    .getByRole("button", { name: "Change password of alice@alpha.example" }).click();
  await alpha.locator("#passwd-panel").waitFor();
  await alpha.fill("#passwd-password", "alice-new-sip-password");
  await alpha.click("#passwd-form button[type=submit]");
  await waitForText(alpha, alpha.locator("#message"), /^The password of alice@alpha\.example is changed\.$/);
  assert.match(sipsite(alphaSite.dir, "user", "list"), /alice@alpha\.example/);

  // A user added with the command line meanwhile: the link of the page
  // shown reloads it.
  execFileSync(BIN, ["user", "add", "--aor", "bob@alpha.example", "--password-stdin", "--state-dir", alphaSite.dir],
    { input: "bob-sip-password\n", encoding: "utf8", timeout: 60000 });
  assert.doesNotMatch(await alpha.locator("#users-table tbody").innerText(), /bob@alpha\.example/);
  await alpha.click('nav a[data-page="users"]');
  await waitForText(alpha, alpha.locator("#users-table tbody"), /bob@alpha\.example/);

  // An API token for scripts, shown once.
  await alpha.click('nav a[data-page="tokens"]');
  await alpha.locator("#tokens-empty").waitFor();
  await alpha.fill("#token-name", "monitoring");
  await alpha.click("#token-form button[type=submit]");
  await waitForText(alpha, alpha.locator("#token-value"), /^sst_[A-Za-z0-9_-]{43}$/);
  await waitForText(alpha, alpha.locator("#tokens-table tbody"), /monitoring/);
  await shot(alpha, "alpha-07-tokens");

  // At 800 px wide the Sites table (its Revoke button) and the audit log
  // (its Detail column) stay inside the page: no horizontal overflow.
  await alpha.setViewportSize({ width: 800, height: 900 });
  await alpha.click('nav a[data-page="peers"]');
  const revoke = (await peerRow(alpha, "beta.example")).getByRole("button", { name: "Revoke beta.example" });
  await revoke.waitFor();
  // The Sites page replaces its rows every 3 s: an element found may be
  // detached before its box is read (null), so look again (bounded).
  const fits = async (locator, what) => {
    let box = null;
    for (let tries = 0; box === null && tries < 20; ++tries) {
      await locator.waitFor();
      box = await locator.boundingBox();
    }
    assert.ok(box, `${what} has no box`);
    const width = await alpha.evaluate(() => document.documentElement.clientWidth);
    assert.ok(box.x >= 0 && box.x + box.width <= width, `${what} ends at ${box.x + box.width} px of ${width}`);
  };
  await fits(alpha.locator("#peers-table"), "the Sites table");
  await fits(revoke, "the Revoke button");
  assert.equal(await alpha.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth), true);
  await alpha.click('nav a[data-page="audit"]');
  await waitForText(alpha, alpha.locator("#audit-table tbody"), /peer\.trust/);
  await fits(alpha.locator("#audit-table"), "the audit log");
  const detail = alpha.locator("#audit-table tbody tr td:last-child");
  for (let i = 0; i < await detail.count(); ++i) await fits(detail.nth(i), `audit detail ${i}`);
  // One time format: "YYYY-MM-DD HH:MM:SS UTC".
  assert.match(await alpha.locator("#audit-table tbody tr td").first().innerText(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  await shot(alpha, "alpha-08-audit-800px");
  await alpha.setViewportSize({ width: 1280, height: 900 });

  // Revocation, confirmed in a dialog; beta sees itself refused.
  await alpha.click('nav a[data-page="peers"]');
  alpha.once("dialog", (d) => d.accept());
  await (await peerRow(alpha, "beta.example")).getByRole("button", { name: "Revoke beta.example" }).click();
  await waitForText(alpha, (await peerRow(alpha, "beta.example")).locator(".state"), /^revoked$/);
  await shot(alpha, "alpha-08-revoked", "09-revoked");
  await waitForText(beta, (await peerRow(beta, "alpha.example")).locator(".link-state"), /refused/, 60000);
  await shot(beta, "beta-08-refused");
  const peers = JSON.parse(sipsite(alphaSite.dir, "peer", "list", "--json"));
  assert.equal(peers[0].state, "revoked");

  for (const [page, name] of [[alpha, "registrations"], [alpha, "audit"]]) {
    await page.click(`nav a[data-page="${name}"]`);
    await page.locator(`#page-${name}`).waitFor();
    await page.waitForTimeout(300);
    await shot(page, `alpha-09-${name}`);
  }
  await waitForText(alpha, alpha.locator("#audit-table tbody"), /peer\.revoke/);
  await waitForText(alpha, alpha.locator("#audit-table tbody"), /user\.password_change/);

  // A revoked site can be removed from its row, confirmed in a dialog.
  await alpha.click('nav a[data-page="peers"]');
  alpha.once("dialog", (d) => d.accept());
  await (await peerRow(alpha, "beta.example")).getByRole("button", { name: "Remove beta.example" }).click();
  await waitForText(alpha, alpha.locator("#message"), /^beta\.example is removed\.$/);
  assert.deepEqual(JSON.parse(sipsite(alphaSite.dir, "peer", "list", "--json")), []);

  // Network settings: the file's keys shown but locked; a change is
  // validated by the server and stored for the next start, which the page says.
  await alpha.click('nav a[data-page="settings"]');
  await alpha.locator("#net-media-ports").waitFor();
  assert.equal(await alpha.locator("#net-site-public_address").isDisabled(), true);
  await waitForText(alpha, alpha.locator("#net-site-public_address-note"), /^set in the configuration file$/);
  assert.equal(await alpha.locator("#net-media-ports").inputValue(), "40000-40999");
  assert.equal(await alpha.locator("#network-restart").isHidden(), true);
  await alpha.fill("#net-media-ports", "41001-41099");
  await alpha.click("#network-form button[type=submit]");
  await waitForText(alpha, alpha.locator("#error"), /^media\.ports: must be "FIRST-LAST"/);
  assert.equal(await alpha.locator("#network-restart").isHidden(), true);
  alpha.problems = alpha.problems.filter((p) => !/status of 400/.test(p));  // that refusal, expected
  await alpha.fill("#net-media-ports", "41000-41099");
  await alpha.fill("#net-sip-aliases", "pbx.alpha.example\n192.0.2.7");
  await alpha.click("#network-form button[type=submit]");
  await waitForText(alpha, alpha.locator("#message"), /^Network settings saved; they apply after a restart of the daemon\.$/);
  await alpha.locator("#network-restart").waitFor();
  await waitForText(alpha, alpha.locator("#net-media-ports-note"), /^set here; restart needed \(running now: 40000-40999\)$/);
  await shot(alpha, "alpha-10-settings", "13-settings");
  await alpha.click('nav a[data-page="audit"]');
  await waitForText(alpha, alpha.locator("#audit-table tbody"), /media\.ports=41000-41099 sip\.aliases=pbx\.alpha\.example 192\.0\.2\.7/);

  // Logging out ends the session.
  await alpha.click("#logout");
  await alpha.locator("#page-login").waitFor();
  await alpha.goto(alphaSite.url + "#/users");
  await alpha.locator("#page-login").waitFor();

  // No CSP violation, script error or request outside the site. (The 401
  // of the session probe at load is expected and not a script error.)
  for (const page of [alpha, beta]) {
    const problems = page.problems.filter((p) => !/401|Unauthorized/.test(p));
    assert.deepEqual(problems, []);
  }
});
