/* The console in headless Chromium (puppeteer-core, axe-core; pinned by package-lock.json), against a
 * daemon started by tests/integration/test_browser.c. Scenarios:
 *   catalogue:  both language catalogues complete;
 *   main:       sign in, enrol from a photo, a bad photo's refusal in plain words, a manual punch seen on
 *               Now within 2 s without reloading, CSV export, void, a camera event marked as of the
 *               wrong person, language switch, sign out;
 *   attendance: the month grid, a day's figures and rules, exceptions resolved, a period closed and
 *               reopened, the current shift's late and missing people live on Now, webcam enrolment,
 *               console accounts created and disabled, the retention policy, a camera's snapshot;
 *   manager:    an account limited to one ward sees that ward on every page and nothing of another;
 *   security:   TOTP, account lock-out, cross-site form posts refused.
 * Every page is checked with axe-core (no serious or critical violations), for Content-Security-Policy
 * violations and for requests to any other origin; screenshots go to SHOT_DIR.
 * Exit status 0 when every check passed; each failure is printed. */
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");
const crypto = require("crypto");
const { execFileSync } = require("child_process");

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`environment variable ${k} is not set`);
  return v;
};
const BASE = env("ATTENDD_URL"); /* http://127.0.0.1:PORT */
const SHOTS = env("SHOT_DIR");
const CHROMIUM = env("CHROMIUM");
const puppeteer = require(path.join(env("NODE_MODULES"), "puppeteer-core"));
const AXE = fs.readFileSync(path.join(env("NODE_MODULES"), "axe-core", "axe.min.js"), "utf8");
const WEB = path.join(__dirname, "..", "..", "web");

let failures = 0;
let lastGuard = null; /* the guard of the page a scenario works on, for a report when it throws */
function check(ok, what) {
  if (ok) console.log(`ok    ${what}`);
  else { failures++; console.log(`FAIL  ${what}`); }
}
function log(s) { console.log(`      ${s}`); }

/* Page-level guards: CSP violations, console errors, requests leaving the daemon's origin. */
function guard(page, name) {
  const g = { csp: [], foreign: [], errors: [] };
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) g.csp.push(m.text()); });
  page.on("pageerror", (e) => { g.errors.push(String(e)); });
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(BASE + "/") && !u.startsWith("data:") && !u.startsWith("blob:")) g.foreign.push(u);
  });
  lastGuard = g;
  g.done = () => {
    check(g.csp.length === 0, `${name}: no Content-Security-Policy violation ${g.csp.join(" | ")}`);
    check(g.errors.length === 0, `${name}: no script error ${g.errors.join(" | ")}`);
    check(g.foreign.length === 0, `${name}: no request to another origin ${g.foreign.join(" ")}`);
  };
  return g;
}

/* axe-core on the current page: no serious or critical violation. */
async function axe(page, name) {
  await page.evaluate(AXE); /* through the DevTools protocol: not an inline script, the page's CSP stands */
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  check(bad.length === 0, `axe on ${name}: no serious or critical violation` +
    (bad.length ? ": " + bad.map((v) => `${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`).join("; ") : ""));
}

async function shot(page, name) {
  const file = path.join(SHOTS, name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  log(`screenshot ${file}`);
}

async function text(page, sel) { return page.$eval(sel, (n) => n.textContent); }

async function go(page, hash, ready) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForSelector(ready, { visible: true, timeout: 10000 });
}

async function signIn(page, user, pw) {
  await page.waitForSelector("#signin-form", { visible: true });
  await page.$eval("#signin-username", (n) => { n.value = ""; });
  await page.$eval("#signin-password", (n) => { n.value = ""; });
  await page.type("#signin-username", user);
  await page.type("#signin-password", pw);
  await page.click("#signin-submit");
}

function totp(b32, now) {
  const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, buf = 0;
  const out = [];
  for (const c of b32) { buf = (buf << 5) | a.indexOf(c); bits += 5; if (bits >= 8) { out.push((buf >>> (bits - 8)) & 255); bits -= 8; } }
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30)));
  const mac = crypto.createHmac("sha256", Buffer.from(out)).update(msg).digest();
  const off = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, "0");
}

async function mainScenario(browser) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  const g = guard(page, "main");
  const resp = await page.goto(BASE + "/", { waitUntil: "load" });
  const h = resp.headers();
  check(/script-src 'self'/.test(h["content-security-policy"] || "") && !/unsafe-inline/.test(h["content-security-policy"]),
    "the page has a strict Content-Security-Policy");
  check(h["x-frame-options"] === "DENY", "the page has X-Frame-Options: DENY");
  await page.waitForSelector("#signin-form", { visible: true });
  check(true, "the sign-in page is shown");
  await shot(page, "signin");
  await axe(page, "sign-in");

  await signIn(page, env("ADMIN_USER"), env("ADMIN_PW"));
  await page.waitForSelector("nav a[href='#/now']", { visible: true });
  const cookies = await page.cookies();
  const c = cookies.find((x) => x.name === "attendd_session");
  check(c && c.httpOnly && c.secure && c.sameSite === "Strict", "the session cookie is HttpOnly, Secure, SameSite=Strict");
  check(await page.evaluate(() => document.cookie.indexOf("attendd_session") < 0), "page scripts cannot read the session cookie");
  await page.waitForSelector("#latest-h", { visible: true });
  await shot(page, "now");
  await axe(page, "Now");

  /* People: add a person, enrol a good photo, see a bad photo refused in plain words */
  await go(page, "#/people", "#person-form");
  await axe(page, "People");
  await page.type("#person-no", "N-" + (Date.now() % 1000000));
  await page.type("#person-name", "Florence Test");
  await page.type("#person-dept", "Ward 3");
  await page.click("#person-submit");
  await page.waitForSelector("#enrol-form", { visible: true });
  /* no face without consent: record it on the person page first */
  await page.waitForSelector("#consent-submit", { visible: true });
  await page.click("#consent-submit");
  await page.waitForFunction(() => /Consent given/.test((document.getElementById("consent-state") || {}).textContent || ""));
  check(true, "consent is recorded on the person page");
  const good = await page.$("#enrol-file");
  await good.uploadFile(env("PHOTO_GOOD"));
  await page.click("#enrol-submit");
  await page.waitForSelector("#enrol-result .msg.ok, #enrol-refusal", { visible: true, timeout: 60000 });
  check(await page.$("#enrol-result .msg.ok") !== null, "a good photo is enrolled: " + (await text(page, "#enrol-result")));
  check(/Sharpness/.test(await text(page, "#enrol-result")), "the quality report is shown");
  await page.waitForFunction(() => document.querySelectorAll("#faces-list li").length === 1, { timeout: 10000 });
  const bad = await page.$("#enrol-file");
  await bad.uploadFile(env("PHOTO_BAD"));
  await page.click("#enrol-submit");
  await page.waitForSelector("#enrol-refusal", { visible: true, timeout: 60000 });
  const refusal = await text(page, "#enrol-refusal");
  check(/more than one face/.test(refusal), `a photo with several faces is refused in plain words: "${refusal}"`);
  await shot(page, "person");
  await axe(page, "person page");

  /* a manual punch on the Events page appears on Now (another tab) within 2 s, without a reload */
  const now = await browser.newPage();
  await now.setViewport({ width: 1280, height: 800 });
  const gNow = guard(now, "Now (second tab)");
  await now.goto(BASE + "/#/now", { waitUntil: "load" });
  await now.waitForSelector("#latest-h", { visible: true });
  let navigations = 0;
  now.on("framenavigated", () => { navigations++; });
  await page.bringToFront(); /* a tab behind another gets no animation frames: waits there would stall */
  await go(page, "#/events", "#punch-form");
  await page.waitForFunction(() => document.querySelectorAll("#punch-person option").length > 0);
  await axe(page, "Events");
  const florence = await page.$$eval("#punch-person option", (os) => (os.find((o) => /Florence Test/.test(o.textContent)) || {}).value);
  await page.select("#punch-person", florence);
  await page.type("#punch-reason", "forgot badge");
  /* the Now tab in front, the punch added from the Events tab behind it */
  await now.bringToFront();
  const t0 = Date.now();
  await page.$eval("#punch-submit", (b) => b.click());
  log("punch submitted");
  let seenMs = -1;
  try {
    await now.waitForFunction(() => {
      const t = document.getElementById("now-events");
      return t && /Florence Test/.test(t.textContent) && /Florence Test/.test(document.getElementById("duty-h").parentNode.textContent);
    }, { timeout: 2000, polling: 50 });
    seenMs = Date.now() - t0;
  } catch (e) { seenMs = -1; }
  check(seenMs >= 0 && seenMs <= 2000, `the punch appears on Now within 2 s without reloading (${seenMs} ms)`);
  check(navigations === 0, "the Now tab did not reload");
  await page.bringToFront();
  await shot(now, "now-live");
  gNow.done();
  await now.close();

  /* the punch is listed; CSV export downloads every event */
  await page.waitForFunction(() => /forgot badge/.test((document.getElementById("events-table") || {}).textContent || ""));
  check(true, "the manual punch is listed on Events");
  const dl = path.join(SHOTS, "downloads");
  fs.rmSync(dl, { recursive: true, force: true });
  fs.mkdirSync(dl, { recursive: true });
  const cdp = await page.createCDPSession();
  await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: dl });
  await page.click("#export-csv");
  let csv = "";
  for (let i = 0; i < 100 && !csv; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const f = path.join(dl, "events.csv");
    if (fs.existsSync(f)) csv = fs.readFileSync(f, "utf8");
  }
  check(csv.startsWith("id,person_id,employee_no,name,camera_id,kind,ts,similarity,liveness,source,created_by,reason"),
    "Export CSV downloads events.csv with its header");
  check(/Florence Test/.test(csv) && /forgot badge/.test(csv) && csv.includes("user:" + env("ADMIN_USER")),
    "the export holds the manual punch, made by the signed-in account");
  await shot(page, "events");
  /* void it */
  await page.click("#events-table button.danger");
  await page.waitForFunction(() => !/forgot badge/.test((document.getElementById("events-table") || document.body).textContent));
  check(true, "a manual punch is voided from the Events page");

  /* a camera event of the wrong person: marked through its row's form with the keyboard, then voided
   * and out of the export */
  const camEv = env("CAMERA_EVENT_ID");
  const camRow = `#events-table tr[data-event='${camEv}']`;
  await page.waitForSelector(`${camRow} button.misid-open`, { visible: true });
  check(csv.includes(camEv), "before it is marked, the export holds the camera event");
  check(await page.$$eval("#events-table tr .misid-open", (bs) => bs.every((b) => /camera/.test(b.closest("tr").textContent))),
    "Wrong person is offered on camera events only");
  await page.focus(`${camRow} button.misid-open`);
  await page.keyboard.press("Enter");
  await page.waitForSelector(`${camRow} form.misid-form`, { visible: true });
  check(await page.evaluate((r) => document.activeElement === document.querySelector(`${r} form.misid-form input`), camRow),
    "Wrong person opens its form with the reason field focused");
  const labelled = await page.$$eval(`${camRow} form.misid-form input, ${camRow} form.misid-form select`,
    (ns) => ns.every((n) => n.id && document.querySelector(`label[for='${n.id}']`)));
  check(labelled, "the wrong-person form's controls are labelled");
  await axe(page, "Events with the wrong-person form");
  await page.keyboard.type("it was her colleague");
  const florenceOpt = await page.$$eval(`${camRow} form.misid-form select option`,
    (os) => (os.find((o) => /Florence Test/.test(o.textContent)) || {}).value);
  await page.select(`${camRow} form.misid-form select`, florenceOpt);
  await page.focus(`${camRow} form.misid-form button[type='submit']`);
  await page.keyboard.press("Enter");
  await page.waitForSelector(`${camRow}.voided .misid-done`, { visible: true });
  check(/Voided: wrong person/.test(await text(page, camRow)), "the camera event's row shows it voided as of the wrong person");
  await shot(page, "events-misidentified");
  await axe(page, "Events after marking a wrong person");
  const listed = await call(page, "GET", "/api/v1/events?limit=500");
  check(listed.status === 200 && !listed.json.items.some((e) => e.id === camEv), "the API no longer lists the misidentified event");
  const again = await call(page, "POST", `/api/v1/events/${camEv}/misidentified`, { reason: "again" });
  check(again.status === 409, `the event is voided: marking it again answers 409 (${again.status})`);
  const csvAfter = await page.evaluate(() => fetch("/api/v1/events?format=csv").then((r) => r.text()));
  check(csvAfter.startsWith("id,") && !csvAfter.includes(camEv), "the CSV export leaves the misidentified event out");

  await go(page, "#/cameras", "h1");
  await page.waitForNetworkIdle();
  await shot(page, "cameras");
  await axe(page, "Cameras");
  await go(page, "#/admin", "#tokens-table");
  await page.waitForSelector(".audit-table", { visible: true });
  check(/session\.create/.test(await text(page, ".audit-table")), "the audit log shows the sign-in");
  await shot(page, "admin");
  await axe(page, "Admin");

  /* Chinese */
  await page.select("#lang", "zh-CN");
  await page.waitForFunction(() => document.querySelector("nav a[href='#/now']").textContent === "当前");
  check(await page.evaluate(() => document.documentElement.lang) === "zh-CN", "switching to 简体中文 relabels the console");
  await go(page, "#/now", "#latest-h");
  await shot(page, "now-zh-CN");
  await axe(page, "Now (zh-CN)");
  await page.select("#lang", "en");
  await page.waitForFunction(() => document.querySelector("nav a[href='#/now']").textContent === "Now");

  /* sign out: back to sign-in, and the session is gone */
  await page.click("#signout");
  await page.waitForSelector("#signin-form", { visible: true });
  const st = await page.evaluate(() => fetch("/api/v1/whoami").then((r) => r.status));
  check(st === 401, `after sign-out the API answers 401 (${st})`);
  g.done();
  await page.close();
}

/* A call to the API from the signed-in page: the session cookie and its CSRF token, as the console sends them. */
async function call(page, method, p, body) {
  return page.evaluate(async (method, p, body) => {
    const s = await (await fetch("/api/v1/session", { credentials: "same-origin" })).json();
    const headers = { "Accept": "application/json", "X-CSRF-Token": s.csrf_token };
    if (body) headers["Content-Type"] = "application/json";
    const r = await fetch(p, { method, headers, credentials: "same-origin", body: body ? JSON.stringify(body) : undefined });
    const txt = await r.text();
    let json = null;
    try { json = txt ? JSON.parse(txt) : null; } catch (e) { json = null; }
    return { status: r.status, json };
  }, method, p, body || null);
}

async function must(page, method, p, body, status) {
  const r = await call(page, method, p, body);
  if (r.status !== status) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

const hhmm = (ms) => new Date(ms).toISOString().slice(11, 16);
const ymd = (ms) => new Date(ms).toISOString().slice(0, 10);

/* Attendance (month grid, a day's figures and rules, exceptions resolved, a period closed and
 * reopened), the current shift's late and missing people on Now (live), webcam enrolment, console
 * accounts and the retention policy, both catalogues complete. */
async function attendanceScenario(browser) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  const g = guard(page, "attendance");
  await page.goto(BASE + "/", { waitUntil: "load" });
  await signIn(page, env("ADMIN_USER"), env("ADMIN_PW"));
  await page.waitForSelector("nav a[href='#/attendance']", { visible: true });
  const tz = (await must(page, "GET", "/api/v1/session", null, 200)).timezone;
  check(tz === "UTC", `the test daemon keeps its reports on UTC (${tz}): the dates below are UTC dates`);

  /* a ward on a day shift 08:00-16:00 (grace 5, break 30); Grace Grid came in at 08:20 two days ago */
  const now = Date.now();
  const day = ymd(now - 2 * 86400000), month = day.slice(0, 7);
  const grace = await must(page, "POST", "/api/v1/people", { employee_no: "G-1", name: "Grace Grid", department: "Ward 7" }, 201);
  const dayShift = await must(page, "POST", "/api/v1/shifts", { name: "Day", start: "08:00", end: "16:00", grace_late_min: 5, grace_early_min: 5, break_min: 30 }, 201);
  await must(page, "POST", "/api/v1/schedules", { shift_id: dayShift.id, department: "Ward 7", valid_from: month + "-01" }, 201);
  await must(page, "POST", "/api/v1/punches", { person_id: grace.id, kind: "in", ts: day + "T08:20:00Z", reason: "badge reader down" }, 201);
  await must(page, "POST", "/api/v1/punches", { person_id: grace.id, kind: "out", ts: day + "T16:00:00Z", reason: "badge reader down" }, 201);

  await go(page, `#/attendance?department=Ward%207&month=${month}`, "#att-grid");
  const cell = await page.$eval(`#att-grid tr[data-person='${grace.id}'] td[data-date='${day}']`, (n) => n.dataset.status);
  check(cell === "late", `the month grid colours ${day} of Grace Grid late (${cell})`);
  const colour = await page.$eval(`#att-grid tr[data-person='${grace.id}'] td[data-date='${day}']`, (n) => getComputedStyle(n).backgroundColor);
  check(colour === "rgb(253, 230, 138)", `a late day has the late colour (${colour})`);
  check(/late/.test(await text(page, "#exc-table")), "the exceptions queue lists the late arrival");
  await shot(page, "attendance");
  await axe(page, "Attendance");

  /* drill-down: the day's punches and each figure with its rule */
  await page.click(`#att-grid tr[data-person='${grace.id}'] td[data-date='${day}'] a`);
  await page.waitForSelector("#day-figures", { visible: true });
  const late = await page.$eval("#day-figures tr[data-figure='fig.late']", (n) => n.textContent);
  check(/^Late minutes20/.test(late) && /5-minute grace/.test(late), `the day shows 20 late minutes and the grace rule (${late})`);
  const worked = await page.$eval("#day-figures tr[data-figure='fig.worked']", (n) => n.textContent);
  check(/^Worked minutes430/.test(worked) && /30-minute break/.test(worked), `the day shows 430 worked minutes and the break rule (${worked})`);
  check(await page.$$eval("#day-punches tbody tr", (r) => r.length) === 2, "the day lists its two punches");
  check(/department/.test(await text(page, "#plan-source")), "the day says its plan comes from the department");
  await shot(page, "attendance-day");
  await axe(page, "attendance day");
  /* resolve the late arrival from the day page: it leaves the list */
  await page.waitForSelector("#day-exc tr[data-kind='late'] .exc-reason");
  await page.type("#day-exc tr[data-kind='late'] .exc-reason", "traffic accident on the ring road");
  await page.click("#day-exc tr[data-kind='late'] button");
  await page.waitForFunction(() => !document.querySelector("#day-exc tr[data-kind='late']") && document.getElementById("day-figures"));
  const open = await must(page, "GET", `/api/v1/exceptions?from=${day}&to=${day}&person_id=${grace.id}`, null, 200);
  check(!open.items.some((x) => x.kind === "late"), "the resolved exception is no longer open");

  /* a pay period: added, closed with a reason, reopened */
  await go(page, `#/attendance?department=Ward%207&month=${month}`, "#period-form");
  await page.type("#period-name", "Test " + month);
  await page.$eval("#period-from", (n, v) => { n.value = v; }, month + "-01");
  await page.$eval("#period-to", (n, v) => { n.value = v; }, ymd(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0)));
  await page.click("#period-submit");
  await page.waitForSelector("#periods-table .period-switch input", { visible: true });
  await page.type("#periods-table .period-switch input", "month end");
  await page.click("#periods-table .period-switch button");
  await page.waitForFunction(() => /closed/.test((document.querySelector("#periods-table .badge") || {}).textContent || ""));
  const periods = await must(page, "GET", "/api/v1/periods", null, 200);
  check(periods.items.length === 1 && periods.items[0].closed, "the period is closed from the page");
  await shot(page, "attendance-periods");
  await page.type("#periods-table .period-switch input", "a late correction");
  await page.click("#periods-table .period-switch button");
  await page.waitForFunction(() => /open/.test((document.querySelector("#periods-table .badge") || {}).textContent || ""));
  check(!(await must(page, "GET", "/api/v1/periods", null, 200)).items[0].closed, "the period is reopened from the page");
  const audit = await must(page, "GET", "/api/v1/audit?action=period", null, 200);
  check(audit.items.some((a) => a.action === "period.close") && audit.items.some((a) => a.action === "period.reopen"),
    "closing and reopening are audited");

  /* Now: a shift running now; Nina has not come, Lena came late; Nina's punch moves her to late live */
  const start = now - 2 * 3600000, end = now + 4 * 3600000;
  const cur = await must(page, "POST", "/api/v1/shifts", { name: "Current", start: hhmm(start), end: hhmm(end), grace_late_min: 5 }, 201);
  await must(page, "POST", "/api/v1/schedules", { shift_id: cur.id, department: "Ward 8", valid_from: ymd(now - 3 * 86400000) }, 201);
  const nina = await must(page, "POST", "/api/v1/people", { employee_no: "G-2", name: "Nina Now", department: "Ward 8" }, 201);
  const lena = await must(page, "POST", "/api/v1/people", { employee_no: "G-3", name: "Lena Late", department: "Ward 8" }, 201);
  await must(page, "POST", "/api/v1/punches", { person_id: lena.id, kind: "in", ts: new Date(now - 3600000).toISOString().replace(/\.\d+Z$/, "Z"), reason: "late bus" }, 201);
  await go(page, "#/now", "#shift-missing");
  await page.waitForFunction((n, l) => document.querySelector(`#shift-missing li.flag.missing[data-person='${n}']`) &&
    document.querySelector(`#shift-late li.flag.late[data-person='${l}']`), { timeout: 10000 }, nina.id, lena.id);
  check(true, "Now highlights the missing and the late people of the current shift");
  await shot(page, "now-shift");
  await axe(page, "Now with the current shift");
  const t0 = Date.now();
  await must(page, "POST", "/api/v1/punches", { person_id: nina.id, kind: "in", ts: new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, "Z"), reason: "forgot badge" }, 201);
  let ms = -1;
  try {
    await page.waitForFunction((n) => document.querySelector(`#shift-late li[data-person='${n}']`) && !document.querySelector(`#shift-missing li[data-person='${n}']`),
      { timeout: 2000, polling: 50 }, nina.id);
    ms = Date.now() - t0;
  } catch (e) { ms = -1; }
  check(ms >= 0, `a missing person who punches in turns late on Now within 2 s, live (${ms} ms)`);

  /* People: the webcam (a fake device playing a shared photo) enrols a face */
  await go(page, "#/people/" + grace.id, "#consent-submit");
  await page.click("#consent-submit");
  await page.waitForFunction(() => /Consent given/.test((document.getElementById("consent-state") || {}).textContent || ""));
  await page.click("#webcam-start");
  await page.waitForFunction(() => { const v = document.getElementById("webcam-video"); return v && !v.hidden && v.videoWidth > 0; }, { timeout: 15000 });
  check(true, "the webcam preview runs");
  await shot(page, "person-webcam");
  await axe(page, "person page with the webcam");
  await page.click("#webcam-take");
  await page.waitForSelector("#enrol-result .msg.ok, #enrol-refusal", { visible: true, timeout: 60000 });
  check(await page.$("#enrol-result .msg.ok") !== null, "a webcam photo is enrolled: " + (await text(page, "#enrol-result")));
  await page.waitForFunction(() => document.querySelectorAll("#faces-list li").length === 1, { timeout: 10000 });
  check(await page.evaluate(() => document.getElementById("webcam-video").hidden), "the webcam is stopped after the photo");

  /* Admin: console accounts created and disabled; the retention policy */
  await go(page, "#/admin", "#users-table");
  await page.type("#user-name", "nurse.hr");
  await page.type("#user-display", "Nurse HR");
  await page.select("#user-role", "hr");
  await page.click("#user-submit");
  await page.waitForSelector("#user-password", { visible: true });
  const pw = await text(page, "#user-password");
  check(pw.length >= 20, "a new account's one-time password is shown once");
  await page.waitForSelector("#users-table tr[data-user='nurse.hr'] button.danger", { visible: true });
  check(/retention/i.test(await text(page, "#retention-h")) && /kept 6 years/.test(await text(page, "#retention-policy")),
    "the retention policy is shown");
  await shot(page, "admin-accounts");
  await axe(page, "Admin with accounts");
  /* the new account signs in (in its own context), then is disabled and its session ends */
  const ctx = await browser.createBrowserContext();
  const other = await ctx.newPage();
  await other.goto(BASE + "/", { waitUntil: "load" });
  await signIn(other, "nurse.hr", pw);
  await other.waitForSelector("nav a[href='#/attendance']", { visible: true });
  check(await other.$("nav a[href='#/admin']") === null, "an hr account has no Admin page");
  await page.click("#users-table tr[data-user='nurse.hr'] button.danger");
  await page.waitForFunction(() => /disabled/.test((document.querySelector("#users-table tr[data-user='nurse.hr'] .user-state") || {}).textContent || ""));
  const st = await other.evaluate(() => fetch("/api/v1/session").then((r) => r.status));
  check(st === 401, `a disabled account's session ends (${st})`);
  await ctx.close();
  /* the audit log, filtered by target type, shows both changes with their detail */
  await page.type("#audit-target-type", "user");
  await page.click("#audit-search");
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll(".audit-table tbody tr")];
    return rows.length > 0 && rows.every((r) => /^user/.test(r.cells[3].textContent)) && rows.some((r) => r.cells[2].textContent === "user.disable");
  });
  const userRows = await page.$$eval(".audit-table tbody tr", (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent).join("|")));
  check(userRows.some((r) => /\|user\.create\|/.test(r) && /"username":"nurse\.hr"/.test(r)),
    "the audit log filtered to accounts shows the account's creation with its detail");

  /* Cameras: the snapshot of a camera playing a shared clip, its region of interest (a corner without
   * faces: the clip adds no events) drawn; fetched with the session */
  const cam = await must(page, "POST", "/api/v1/cameras",
    { name: "Entrance", url: env("CAMERA_FILE"), analysis_fps: 1, roi: { x: 0, y: 0, w: 64, h: 48 } }, 201);
  await go(page, "#/cameras", "#cameras-table");
  const snapBtn = `#cameras-table tr[data-camera='${cam.id}'] .snap-btn`;
  await page.waitForSelector(snapBtn, { visible: true });
  let size = null;
  for (let i = 0; i < 40 && !size; i++) {
    await page.click(snapBtn);
    await page.waitForSelector("#snapshot-img, #snapshot .msg.error", { visible: true });
    size = await page.evaluate(() => {
      const img = document.getElementById("snapshot-img");
      return img && img.complete && img.naturalWidth > 0 ? [img.naturalWidth, img.naturalHeight] : null;
    });
    if (!size) await new Promise((r) => setTimeout(r, 500)); /* connecting: 503 until the first frame */
  }
  check(size !== null && size[0] >= 320, `the camera's snapshot is shown (${size})`);
  check(/Entrance/.test(await page.$eval("#snapshot-img", (n) => n.alt)), "the snapshot has a text alternative");
  await shot(page, "cameras-snapshot");
  await axe(page, "Cameras with a snapshot");
  await must(page, "DELETE", "/api/v1/cameras/" + cam.id, null, 204);
  const snaps = await must(page, "GET", "/api/v1/audit?action=camera.snapshot", null, 200);
  check(snaps.items.some((a) => a.target_id === cam.id && a.outcome === "ok"), "the snapshot is audited");

  /* 简体中文 on the new pages */
  await page.select("#lang", "zh-CN");
  await go(page, `#/attendance?department=Ward%207&month=${month}`, "#att-grid");
  check(await text(page, "#main h1") === "出勤", "the Attendance page is in 简体中文");
  await shot(page, "attendance-zh-CN");
  await axe(page, "Attendance (zh-CN)");
  await page.select("#lang", "en");
  g.done();
  await page.close();
}

/* A ward manager: an account limited to one ward sees that ward on every page and nothing of another
 * ward (names, employee numbers, ids), live events included; the Admin page is not theirs. */
async function managerScenario(browser) {
  const adminCtx = await browser.createBrowserContext();
  const admin = await adminCtx.newPage();
  await admin.goto(BASE + "/", { waitUntil: "load" });
  await signIn(admin, env("ADMIN_USER"), env("ADMIN_PW"));
  await admin.waitForSelector("nav a[href='#/admin']", { visible: true });
  /* two wards on a shift running now; each has a person who came late, ward East one still missing */
  const now = Date.now();
  const shift = await must(admin, "POST", "/api/v1/shifts", { name: "Ward round", start: hhmm(now - 2 * 3600000), end: hhmm(now + 4 * 3600000), grace_late_min: 5 }, 201);
  for (const w of ["Ward East", "Ward West"])
    await must(admin, "POST", "/api/v1/schedules", { shift_id: shift.id, department: w, valid_from: ymd(now - 3 * 86400000) }, 201);
  const amelia = await must(admin, "POST", "/api/v1/people", { employee_no: "EAST-31", name: "Amelia East", department: "Ward East" }, 201);
  const aaron = await must(admin, "POST", "/api/v1/people", { employee_no: "EAST-32", name: "Aaron Absent", department: "Ward East" }, 201);
  const bruno = await must(admin, "POST", "/api/v1/people", { employee_no: "WEST-77", name: "Bruno West", department: "Ward West" }, 201);
  const inAt = new Date(now - 3600000).toISOString().replace(/\.\d+Z$/, "Z");
  await must(admin, "POST", "/api/v1/punches", { person_id: amelia.id, kind: "in", ts: inAt, reason: "east gate" }, 201);
  await must(admin, "POST", "/api/v1/punches", { person_id: bruno.id, kind: "in", ts: inAt, reason: "west gate" }, 201);
  const acct = await must(admin, "POST", "/api/v1/users", { username: "ward.east", display_name: "East Manager", role: "manager", departments: ["Ward East"] }, 201);
  /* everything of another ward the manager must never see: Ward West's person, and the people of the other scenarios */
  const hidden = ["Bruno West", "WEST-77", bruno.id, "west gate", "Ward West", "Mary Target", env("PERSON_ID"), "Florence Test", "Nina Now", "Grace Grid"];
  async function nothingElse(page, what) {
    const html = await page.evaluate(() => document.documentElement.outerHTML + "\n" + document.body.innerText);
    const seen = hidden.filter((h) => html.includes(h));
    check(seen.length === 0, `${what}: nothing of another ward on the page${seen.length ? " (found " + seen.join(", ") + ")" : ""}`);
  }

  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  const g = guard(page, "manager");
  await page.goto(BASE + "/", { waitUntil: "load" });
  await signIn(page, "ward.east", acct.password);
  await page.waitForSelector("nav a[href='#/attendance']", { visible: true });
  const s = await must(page, "GET", "/api/v1/session", null, 200);
  check(s.user.role === "manager" && JSON.stringify(s.user.departments) === '["Ward East"]', `the session names the manager's ward (${JSON.stringify(s.user.departments)})`);
  const nav = await page.$$eval("nav a", (as) => as.map((a) => a.getAttribute("href")));
  check(JSON.stringify(nav) === JSON.stringify(["#/now", "#/events", "#/attendance", "#/people", "#/cameras"]),
    `a manager has every page but Admin (${nav.join(" ")})`);
  check(/Ward East/.test(await text(page, "#who")), "the top bar names the manager's ward");

  /* Now: the ward's current shift (Aaron missing, Amelia late), its people on duty; live events of the ward only */
  await go(page, "#/now", "#shift-missing");
  await page.waitForFunction((a, m) => document.querySelector(`#shift-missing li[data-person='${a}']`) &&
    document.querySelector(`#shift-late li[data-person='${m}']`) && /Amelia East/.test(document.getElementById("duty-h").parentNode.textContent),
  { timeout: 10000 }, aaron.id, amelia.id);
  check(true, "Now shows the ward's current shift (missing and late) and who is on duty");
  await must(admin, "POST", "/api/v1/punches", { person_id: bruno.id, kind: "out", ts: new Date(Date.now() - 2000).toISOString().replace(/\.\d+Z$/, "Z"), reason: "west gate" }, 201);
  await must(admin, "POST", "/api/v1/punches", { person_id: aaron.id, kind: "in", ts: new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, "Z"), reason: "east gate late" }, 201);
  let live = true;
  try {
    await page.waitForFunction((a) => document.querySelector(`#shift-late li[data-person='${a}']`) && /east gate late/.test(document.getElementById("now-events").textContent),
      { timeout: 5000, polling: 50 }, aaron.id);
  } catch (e) { live = false; }
  check(live, "a punch of the manager's ward appears on Now live");
  await nothingElse(page, "Now (after another ward's live punch)");
  await shot(page, "manager-now");
  await axe(page, "Now (manager)");

  /* Events: the ward's events, a punch for the ward's people only; the export holds the ward only */
  await go(page, "#/events", "#events-table");
  check(/Amelia East/.test(await text(page, "#events-table")), "Events lists the ward's events");
  const choices = await page.$$eval("#punch-person option", (os) => os.map((o) => o.textContent));
  check(choices.length === 2 && choices.every((c) => /EAST-3/.test(c)), `the manual punch offers the ward's people only (${choices.join(", ")})`);
  const csv = await page.evaluate(() => fetch(document.getElementById("export-csv").getAttribute("href")).then((r) => r.text()));
  check(/Amelia East/.test(csv) && !hidden.some((h) => csv.includes(h)), "Export CSV holds the ward's events only");
  await nothingElse(page, "Events");
  await shot(page, "manager-events");
  await axe(page, "Events (manager)");

  /* Attendance: only the manager's ward to choose; its grid and exceptions; even when the address names another ward */
  await go(page, "#/attendance?department=Ward%20West", "#att-grid");
  const depts = await page.$$eval("#att-dept option", (os) => os.map((o) => o.value));
  check(JSON.stringify(depts) === '["Ward East"]', `Attendance offers the manager's ward only (${depts.join(", ")})`);
  check(await page.$(`#att-grid tr[data-person='${amelia.id}']`) !== null && await page.$(`#att-grid tr[data-person='${aaron.id}']`) !== null,
    "the month grid shows the ward's people");
  await page.waitForSelector("#exc-table, #exc-none", { visible: true });
  await nothingElse(page, "Attendance");
  await shot(page, "manager-attendance");
  await axe(page, "Attendance (manager)");
  /* Amelia's punch belongs to the work day whose boundaries hold it: yesterday's or today's, by the hour */
  const rep = await must(admin, "GET", `/api/v1/attendance?from=${ymd(now - 86400000)}&to=${ymd(now)}&person_id=${amelia.id}`, null, 200);
  const held = rep.items.filter((r) => Date.parse(r.day_from) <= Date.parse(inAt) && Date.parse(inAt) < Date.parse(r.day_until));
  check(held.length === 1 && held[0].first_in !== null, `exactly one work day holds Amelia's punch (${held.map((r) => r.date).join(", ")})`);
  const workDay = held.length ? held[0].date : ymd(now);
  await go(page, `#/attendance/day/${amelia.id}/${workDay}`, "#day-punches");
  check(/east gate/.test(await text(page, "#day-punches")), "a ward person's work day shows the punches");
  await nothingElse(page, "a work day");
  await shot(page, "manager-day");
  await axe(page, "work day (manager)");
  await go(page, `#/attendance/day/${bruno.id}/${workDay}`, "#plan-h ~ .msg.error");
  await nothingElse(page, "another ward's work day");

  /* People: the ward's roster and a person's page; another ward's person does not exist */
  await go(page, "#/people", "#people-table");
  const rows = await page.$$eval("#people-table tbody tr", (rs) => rs.map((r) => r.cells[0].textContent).sort());
  check(JSON.stringify(rows) === '["EAST-31","EAST-32"]', `People lists the ward's people only (${rows.join(", ")})`);
  await page.type("#people-q", "West");
  await page.click("form[role='search'] button");
  await page.waitForFunction(() => !document.getElementById("people-table"));
  await nothingElse(page, "People searched for another ward's person");
  await shot(page, "manager-people");
  await axe(page, "People (manager)");
  await go(page, "#/people/" + amelia.id, "#faces-h");
  check(/Amelia East/.test(await text(page, "#main h1")), "a ward person's page opens");
  await nothingElse(page, "person page");
  await shot(page, "manager-person");
  await axe(page, "person page (manager)");
  await go(page, "#/people/" + bruno.id, "#main .msg.error");
  check(/does not exist/.test(await text(page, "#main .msg.error")), "another ward's person does not exist for the manager");
  await nothingElse(page, "another ward's person page");

  /* Cameras (read), and no Admin: tokens, accounts and the audit log are not a manager's */
  await go(page, "#/cameras", "h1");
  await page.waitForFunction(() => document.querySelector("#cameras-table, #main p"));
  await nothingElse(page, "Cameras");
  await shot(page, "manager-cameras");
  await axe(page, "Cameras (manager)");
  await go(page, "#/admin", "#main .msg.error");
  check(await page.$("#tokens-table, #users-table, .audit-table") === null, "the Admin page shows a manager nothing");
  for (const p of ["/api/v1/tokens", "/api/v1/audit", "/api/v1/users"])
    check((await call(page, "GET", p)).status === 403, `${p} answers 403 to a manager`);
  g.done();
  await ctx.close();
  await adminCtx.close();
}

/* Both catalogues hold the same keys, and every key the console asks for exists. */
function catalogueScenario() {
  const win = {};
  for (const f of ["en.js", "zh-CN.js"]) new Function("window", fs.readFileSync(path.join(WEB, "i18n", f), "utf8"))(win);
  const en = win.ATTENDD_I18N.en, zh = win.ATTENDD_I18N["zh-CN"];
  const onlyEn = Object.keys(en).filter((k) => !(k in zh)), onlyZh = Object.keys(zh).filter((k) => !(k in en));
  check(onlyEn.length === 0 && onlyZh.length === 0, `the catalogues hold the same keys (${onlyEn.concat(onlyZh).join(" ")})`);
  const src = fs.readFileSync(path.join(WEB, "app.js"), "utf8");
  const used = [...src.matchAll(/\bt\("([a-z_]+(?:\.[a-z_]+)+)"/g)].map((m) => m[1]);
  const missing = used.filter((k) => !(k in en));
  check(used.length > 100 && missing.length === 0, `every string the console shows is in the catalogues (${used.length} keys; missing: ${missing.join(" ")})`);
  const untranslated = Object.keys(en).filter((k) => en[k] === zh[k] && /[a-z]{3}/.test(en[k]) && k !== "lang.name");
  check(untranslated.length === 0, `no English left in the Chinese catalogue (${untranslated.join(" ")})`);
}

/* An evil page on origin `host:port` that posts a form to the console's API on load. */
function evilServer(body) {
  return new Promise((resolve) => {
    const srv = http.createServer((req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end(`<!doctype html><html><body><form id="f" method="POST" enctype="text/plain" action="${BASE}/api/v1/punches">` +
        `<input type="hidden" name='${body}' value='"}'></form><script>document.getElementById("f").submit()</script></body></html>`);
    });
    srv.listen(0, "127.0.0.1", () => resolve(srv));
  });
}

async function securityScenario(browser) {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  const g = guard(page, "security");
  await page.goto(BASE + "/", { waitUntil: "load" });

  /* TOTP: the password alone asks for the code; a wrong code fails; the right one signs in */
  await signIn(page, env("TOTP_USER"), env("TOTP_PW"));
  await page.waitForSelector("#signin-totp", { visible: true });
  check(/6-digit code/.test(await text(page, "#main .msg.error")), "a TOTP account is asked for its code");
  await shot(page, "signin-totp");
  await axe(page, "sign-in with code");
  const code = totp(env("TOTP_SECRET"), Date.now());
  await page.type("#signin-totp", String((Number(code) + 500000) % 1000000).padStart(6, "0"));
  await page.click("#signin-submit");
  await page.waitForFunction(() => /wrong/.test((document.querySelector("#main .msg.error") || {}).textContent || ""));
  check(true, "a wrong code is refused");
  await page.$eval("#signin-totp", (n) => { n.value = ""; });
  await page.type("#signin-totp", code);
  await page.click("#signin-submit");
  await page.waitForSelector("nav a[href='#/now']", { visible: true });
  check(true, "the right code signs in");

  /* cross-site form posts: refused, nothing recorded */
  const before = await page.evaluate(() => fetch("/api/v1/events?limit=500").then((r) => r.json()).then((j) => j.items.length));
  const person = env("PERSON_ID");
  /* text/plain form encoding sends name=value: this name and the value '"}' make a valid punch body */
  const payload = `{"person_id":"${person}","kind":"in","ts":"${new Date(Date.now() - 60000).toISOString()}","reason":"csrf`;
  const evil = await evilServer(payload);
  const port = evil.address().port;
  const tab = await ctx.newPage();
  /* another site (localhost is not 127.0.0.1): SameSite=Strict keeps the cookie away */
  await tab.goto(`http://localhost:${port}/`, { waitUntil: "load" });
  const crossSite = await tab.evaluate(() => document.body.innerText);
  check(/"status":401/.test(crossSite), `a form post from another site is refused (${crossSite.slice(0, 120)})`);
  /* the same site on another port: the cookie goes, the origin checks refuse */
  await tab.goto(`http://127.0.0.1:${port}/`, { waitUntil: "load" });
  const crossOrigin = await tab.evaluate(() => document.body.innerText);
  check(/"status":403/.test(crossOrigin), `a form post from another origin of the same site is refused (${crossOrigin.slice(0, 160)})`);
  await tab.close();
  evil.close();
  const after = await page.evaluate(() => fetch("/api/v1/events?limit=500").then((r) => r.json()).then((j) => j.items.length));
  check(after === before, `no punch was recorded by the forged posts (${before} -> ${after})`);
  await page.click("#signout");
  await page.waitForSelector("#signin-form", { visible: true });

  /* lock-out: five wrong passwords, then the right one is refused too */
  for (let i = 0; i < 5; i++) {
    await signIn(page, env("LOCK_USER"), "not the password " + i);
    await page.waitForSelector("#main .msg.error", { visible: true });
  }
  await signIn(page, env("LOCK_USER"), env("LOCK_PW"));
  await page.waitForFunction(() => /Too many failed sign-ins/.test((document.querySelector("#main .msg.error") || {}).textContent || ""));
  check(true, "after five failures the account is locked, even for the right password");
  await shot(page, "signin-locked");
  g.done();
  await ctx.close();
}

(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  /* the webcam: Chromium's fake capture device plays a shared photo, made a video (y4m) by ffmpeg */
  const y4m = path.join(SHOTS, "..", "webcam.y4m");
  execFileSync("ffmpeg", ["-loglevel", "error", "-y", "-loop", "1", "-i", env("PHOTO_WEBCAM"), "-frames:v", "10",
    "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p", "-f", "yuv4mpegpipe", y4m]);
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--no-first-run", "--disable-gpu", "--lang=en-US",
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--use-file-for-fake-video-capture=" + y4m],
  });
  try {
    if (!process.env.SCENARIO || process.env.SCENARIO === "catalogue") {
      console.log("== catalogue");
      try { catalogueScenario(); } catch (e) { failures++; console.log(`FAIL  catalogue: ${e.stack || e}`); }
    }
    for (const [name, fn] of [["main", mainScenario], ["attendance", attendanceScenario], ["manager", managerScenario], ["security", securityScenario]]) {
      if (process.env.SCENARIO && process.env.SCENARIO !== name) continue;
      console.log(`== ${name}`);
      try { await fn(browser); } catch (e) { failures++; console.log(`FAIL  ${name}: ${e.stack || e}`); }
      if (lastGuard && lastGuard.errors.length) console.log(`      script errors: ${lastGuard.errors.join(" | ")}`);
    }
  } finally {
    await browser.close();
  }
  console.log(failures ? `${failures} check(s) failed` : "all checks passed");
  process.exit(failures ? 1 : 0);
})().catch((e) => { console.log(`FAIL  ${e.stack || e}`); process.exit(1); });
