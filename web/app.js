/* The attendd console: a single page over the daemon's own API. Pages are drawn with DOM calls
 * (never innerHTML), signed in by the session cookie, with the CSRF token on every change. */
"use strict";
(function () {
  var CAT = window.ATTENDD_I18N;
  var LANGS = ["en", "zh-CN"];
  var state = { lang: pickLang(), session: null, es: null, now: null };

  function pickLang() {
    var saved = null;
    try { saved = window.localStorage.getItem("attendd.lang"); } catch (e) { saved = null; }
    if (saved && CAT[saved]) return saved;
    return (navigator.language || "").toLowerCase().indexOf("zh") === 0 ? "zh-CN" : "en";
  }

  /* A string of the current catalogue with {name} filled in. */
  function t(key, vars) {
    var s = (CAT[state.lang] && CAT[state.lang][key]) || CAT.en[key] || key;
    return s.replace(/\{(\w+)\}/g, function (_, k) { return vars && vars[k] !== undefined ? String(vars[k]) : ""; });
  }

  /* el("tag", {attr: value, on: {click: fn}}, child...) — text children become text nodes. */
  function el(tag, attrs) {
    var n = document.createElement(tag);
    var a = attrs || {};
    Object.keys(a).forEach(function (k) {
      if (k === "on") Object.keys(a.on).forEach(function (ev) { n.addEventListener(ev, a.on[ev]); });
      else if (k === "text") n.textContent = a.text;
      else if (a[k] === true) n.setAttribute(k, "");
      else if (a[k] !== false && a[k] !== null && a[k] !== undefined) n.setAttribute(k, a[k]);
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) c.forEach(function (x) { if (x) n.appendChild(typeof x === "string" ? document.createTextNode(x) : x); });
      else n.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return n;
  }

  function field(id, label, input) {
    input.id = id;
    return el("div", { "class": "field" }, el("label", { "for": id, text: label }), input);
  }

  function msg(kind, text) { return el("div", { "class": "msg " + kind, role: kind === "error" ? "alert" : "status", text: text }); }

  function toast(text) {
    var n = document.getElementById("toast");
    n.textContent = text;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { n.textContent = ""; }, 4000);
  }

  /* Times on the hospital's wall clock. */
  function fmtTime(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    try {
      return new Intl.DateTimeFormat(state.lang, {
        timeZone: (state.session && state.session.timezone) || "UTC",
        year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false
      }).format(d);
    } catch (e) { return iso; }
  }

  /* The hour and minute of an instant on the hospital's wall clock. */
  function fmtClock(iso) {
    if (!iso) return "";
    try {
      return new Intl.DateTimeFormat(state.lang, { timeZone: zone(), hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso));
    } catch (e) { return iso; }
  }

  function zone() { return (state.session && state.session.timezone) || "UTC"; }

  /* YYYY-MM-DD of an instant on the hospital's wall clock. */
  function localDate(d) {
    var o = {};
    new Intl.DateTimeFormat("en-CA", { timeZone: zone(), year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(d).forEach(function (p) { o[p.type] = p.value; });
    return o.year + "-" + o.month + "-" + o.day;
  }

  /* A calendar date n days after ymd (YYYY-MM-DD). */
  function addDays(ymd, n) {
    var d = new Date(ymd + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }

  /* The query of a page's hash (#/page?a=1&b=2) as an object. */
  function hashQuery(hash) {
    var q = {}, i = hash.indexOf("?");
    if (i < 0) return q;
    hash.slice(i + 1).split("&").forEach(function (kv) {
      var j = kv.indexOf("=");
      if (j > 0) q[decodeURIComponent(kv.slice(0, j))] = decodeURIComponent(kv.slice(j + 1));
    });
    return q;
  }

  function errorBox(res) { return msg("error", t("common.error", { detail: problemText(res) })); }

  /* A table with a header row of catalogue keys and rows of cells. */
  function table(id, keys, rows, cls) {
    var head = el("tr", {}, keys.map(function (k) { return el("th", { scope: "col", text: t(k) }); }));
    return el("div", { "class": "table-wrap" }, el("table", { id: id, "class": cls || null }, el("thead", {}, head), el("tbody", {}, rows)));
  }

  /* One API call: JSON in and out, the CSRF token on every change; a 401 goes back to sign-in. */
  function api(method, path, body, contentType) {
    var headers = { "Accept": "application/json" };
    if (method !== "GET" && state.session) headers["X-CSRF-Token"] = state.session.csrf_token;
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined && body !== null) {
      if (contentType) { headers["Content-Type"] = contentType; init.body = body; }
      else { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    }
    return fetch(path, init).then(function (r) {
      return r.text().then(function (txt) {
        var j = null;
        try { j = txt ? JSON.parse(txt) : null; } catch (e) { j = null; }
        if (r.status === 401 && state.session && path !== "/api/v1/session") {
          state.session = null;
          showSignIn(t("signin.ended"));
          throw new Error("session ended");
        }
        return { status: r.status, ok: r.ok, json: j, headers: r.headers };
      });
    });
  }

  function problemText(res) { return (res.json && (res.json.detail || res.json.title)) || String(res.status); }

  /* ---- chrome: language, navigation, sign-out ------------------------------------------------ */

  var PAGES = [
    { hash: "#/now", key: "nav.now", draw: drawNow },
    { hash: "#/events", key: "nav.events", draw: drawEvents },
    { hash: "#/attendance", key: "nav.attendance", draw: drawAttendance },
    { hash: "#/people", key: "nav.people", draw: drawPeople },
    { hash: "#/cameras", key: "nav.cameras", draw: drawCameras },
    { hash: "#/admin", key: "nav.admin", draw: drawAdmin, admin: true }
  ];

  function drawChrome() {
    document.documentElement.lang = state.lang;
    document.title = t("app.title");
    var sel = document.getElementById("lang");
    sel.textContent = "";
    LANGS.forEach(function (l) { sel.appendChild(el("option", { value: l, selected: l === state.lang, text: CAT[l]["lang.name"] })); });
    document.getElementById("lang-label").textContent = t("lang.label");
    var nav = document.getElementById("nav");
    nav.textContent = "";
    nav.setAttribute("aria-label", t("nav.label"));
    var out = document.getElementById("signout");
    var who = document.getElementById("who");
    if (!state.session) { nav.hidden = true; out.hidden = true; who.textContent = ""; return; }
    var cur = currentPage();
    PAGES.forEach(function (p) {
      if (p.admin && state.session.user.role !== "admin") return;
      nav.appendChild(el("a", { href: p.hash, "aria-current": cur && cur.hash === p.hash ? "page" : false, text: t(p.key) }));
    });
    nav.hidden = false;
    out.hidden = false;
    out.textContent = t("nav.signout");
    var u = state.session.user;
    who.textContent = u.departments && u.departments.length
      ? t("nav.signed_in_as_wards", { name: u.display_name, role: t("role." + u.role), wards: u.departments.join(", ") })
      : t("nav.signed_in_as", { name: u.display_name, role: t("role." + u.role) });
  }

  function currentPage() {
    var h = location.hash || "#/now";
    for (var i = 0; i < PAGES.length; i++) if (h === PAGES[i].hash || h.indexOf(PAGES[i].hash + "/") === 0 || h.indexOf(PAGES[i].hash + "?") === 0) return PAGES[i];
    return PAGES[0];
  }

  function stopLive() {
    if (state.es) { state.es.close(); state.es = null; }
    if (state.timer) { clearInterval(state.timer); state.timer = null; }
    if (state.stream) { state.stream.getTracks().forEach(function (tr) { tr.stop(); }); state.stream = null; }
    state.now = null;
  }

  function route() {
    if (!state.session) return;
    stopLive();
    drawChrome();
    var main = document.getElementById("main");
    main.textContent = "";
    var p = currentPage();
    p.draw(main, location.hash || "#/now");
    main.focus();
  }

  /* ---- sign-in ------------------------------------------------------------------------------- */

  function showSignIn(notice) {
    stopLive();
    state.session = null;
    drawChrome();
    var main = document.getElementById("main");
    main.textContent = "";
    var box = el("div", { "class": "signin" });
    var note = el("div", {});
    if (notice) note.appendChild(msg("error", notice));
    var user = el("input", { type: "text", name: "username", autocomplete: "username", required: true });
    var pass = el("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
    var code = el("input", { type: "text", name: "totp", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6" });
    var codeField = field("signin-totp", t("signin.totp"), code);
    codeField.hidden = true;
    var form = el("form", { "class": "stack", id: "signin-form", novalidate: true },
      field("signin-username", t("signin.username"), user),
      field("signin-password", t("signin.password"), pass),
      codeField,
      el("button", { type: "submit", id: "signin-submit", text: t("signin.submit") }));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = { username: user.value.trim(), password: pass.value };
      if (!codeField.hidden && code.value) body.totp = code.value.trim();
      note.textContent = "";
      api("POST", "/api/v1/session", body).then(function (res) {
        if (res.status === 201) {
          state.session = res.json;
          if (!location.hash) location.hash = "#/now";
          route();
          return;
        }
        var text = t("signin.bad");
        if (res.status === 401 && res.json && res.json.totp_required) { codeField.hidden = false; text = t("signin.totp_needed"); code.focus(); }
        else if (res.status === 429) text = t("signin.locked", { s: res.headers.get("Retry-After") || "?" });
        else if (res.status === 403) text = t("signin.forbidden");
        else if (res.status !== 401) text = t("common.error", { detail: problemText(res) });
        note.appendChild(msg("error", text));
      });
    });
    box.appendChild(el("h1", { text: t("signin.title") }));
    box.appendChild(note);
    box.appendChild(form);
    main.appendChild(box);
    user.focus();
  }

  function signOut() {
    api("DELETE", "/api/v1/session").then(function () {
      state.session = null;
      location.hash = "";
      showSignIn(null);
    });
  }

  /* ---- Now: who is on duty, per ward, live from the event stream ----------------------------- */

  function drawNow(main) {
    main.appendChild(el("h1", { text: t("now.title") }));
    var status = el("p", { "class": "badge live", id: "live-status", text: t("now.live") });
    var duty = el("section", { "class": "card", "aria-labelledby": "duty-h" });
    var latest = el("section", { "class": "card", "aria-labelledby": "latest-h" });
    var shift = el("section", { "class": "card", "aria-labelledby": "shift-h" });
    main.appendChild(status);
    main.appendChild(shift);
    main.appendChild(duty);
    main.appendChild(latest);
    var now = { events: [], wards: {}, seen: {}, plan: null, grace: {} };
    state.now = now;
    var today = localDate(new Date());
    /* the plan from yesterday on: a night shift begun yesterday is current until its end (a manager's
     * roster holds only their wards: the API limits it) */
    Promise.all([api("GET", "/api/v1/roster?from=" + addDays(today, -1) + "&to=" + today), api("GET", "/api/v1/shifts")]).then(function (rs) {
      if (state.now !== now) return;
      if (!rs[0].ok) { now.planError = rs[0]; renderShift(); return; }
      if (rs[1].ok) rs[1].json.items.forEach(function (s) { now.grace[s.id] = s.grace_late_min; });
      now.plan = rs[0].json.items;
      renderShift();
      /* a person still missing turns late, and a shift ending leaves, without an event */
      state.timer = setInterval(renderShift, 30000);
    });
    var since = new Date(Date.now() - 24 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    api("GET", "/api/v1/people?limit=500").then(function (pr) {
      if (pr.ok) pr.json.items.forEach(function (p) { now.wards[p.id] = p.department; });
      return api("GET", "/api/v1/events?limit=200&since=" + encodeURIComponent(since));
    }).then(function (res) {
      if (state.now !== now) return;
      if (res.ok) res.json.items.forEach(function (e) { if (!now.seen[e.id]) { now.seen[e.id] = true; now.events.push(e); } });
      render();
      var es = new EventSource("/api/v1/events/stream");
      state.es = es;
      es.onmessage = function (m) {
        var e;
        try { e = JSON.parse(m.data); } catch (x) { return; }
        if (now.seen[e.id]) return;
        now.seen[e.id] = true;
        now.events.unshift(e);
        status.textContent = t("now.live");
        render();
      };
      es.onerror = function () { status.textContent = t("now.offline"); };
    });

    function renderShift() {
      if (state.now !== now) return;
      shift.textContent = "";
      shift.appendChild(el("h2", { id: "shift-h", text: t("now.shift") }));
      if (now.planError) { shift.appendChild(errorBox(now.planError)); return; }
      if (!now.plan) { shift.appendChild(el("p", { text: t("common.loading") })); return; }
      var s = shiftState(now);
      if (!s.missing.length && !s.late.length && !s.on_time.length && !s.due.length) { shift.appendChild(el("p", { id: "shift-none", text: t("now.no_shift") })); return; }
      var grid = el("div", { "class": "grid" });
      ["missing", "late", "due", "on_time"].forEach(function (k) {
        var list = s[k];
        grid.appendChild(el("div", { "class": "shift-group " + k, id: "shift-" + k },
          el("h3", { text: t("now.shift." + k, { n: list.length }) }),
          list.length ? el("ul", { "class": "duty" }, list.map(function (w) {
            var name = w.person.name || w.person.employee_no;
            var line = name + " · " + w.shift.name + " " + fmtClock(w.shift.start) + "–" + fmtClock(w.shift.end);
            if (w.first) line += " · " + t("now.arrived", { time: fmtClock(w.first.ts) });
            return el("li", { "class": k === "missing" || k === "late" ? "flag " + k : null, "data-person": w.person.person_id }, line);
          })) : el("p", { text: t("common.none") })));
      });
      shift.appendChild(grid);
    }

    function who(e) { return e.name || e.employee_no || e.person_key || e.person_id || t("now.unknown_person"); }

    function render() {
      now.events.sort(function (a, b) { return a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0; });
      var last = {};
      now.events.forEach(function (e) { var k = e.person_id || e.person_key; if (k && !last[k]) last[k] = e; });
      var onDuty = Object.keys(last).filter(function (k) { return last[k].kind === "in"; }).map(function (k) { return last[k]; });
      duty.textContent = "";
      duty.appendChild(el("h2", { id: "duty-h", text: t("now.on_duty", { n: onDuty.length }) }));
      var byWard = {};
      onDuty.forEach(function (e) { var w = now.wards[e.person_id] || t("now.no_ward"); (byWard[w] = byWard[w] || []).push(e); });
      var grid = el("div", { "class": "grid" });
      Object.keys(byWard).sort().forEach(function (w) {
        grid.appendChild(el("div", {}, el("h3", { text: w }),
          el("ul", { "class": "duty" }, byWard[w].map(function (e) { return el("li", {}, who(e) + " · " + fmtTime(e.ts)); }))));
      });
      duty.appendChild(onDuty.length ? grid : el("p", { text: t("common.none") }));
      renderShift();
      latest.textContent = "";
      latest.appendChild(el("h2", { id: "latest-h", text: t("now.latest") }));
      latest.appendChild(eventsTable(now.events.slice(0, 50), null, "now-events"));
    }
  }

  /* The current shift's people on the Now page: missing (no in punch past the start and its grace),
   * late (the first in punch past it) and on time, from the roster and the live events. */
  function shiftState(now) {
    var t0 = Date.now(), out = { missing: [], late: [], on_time: [], due: [] };
    now.plan.forEach(function (p) {
      p.days.forEach(function (d) {
        (d.shifts || []).forEach(function (s) {
          var st = Date.parse(s.start), en = Date.parse(s.end);
          if (!(st <= t0 && t0 < en)) return;
          /* a shift no longer listed (deleted since) has no grace to give */
          var grace = (now.grace[s.id] || 0) * 60000;
          var first = null;
          now.events.forEach(function (e) {
            var ts = Date.parse(e.ts);
            if (e.person_id === p.person_id && e.kind === "in" && ts >= st - 4 * 3600000 && ts < en && (!first || ts < Date.parse(first.ts))) first = e;
          });
          var who = { person: p, shift: s, first: first };
          if (!first) out[t0 > st + grace ? "missing" : "due"].push(who);
          else out[Date.parse(first.ts) > st + grace ? "late" : "on_time"].push(who);
        });
      });
    });
    return out;
  }

  /* A table of events; onVoid (or null) adds a Void button to manual punches, onWrong (or null) the
   * control that marks a camera event as of the wrong person. */
  function eventsTable(items, onVoid, id, onWrong) {
    if (!items.length) return el("p", { id: id, text: t("common.none") });
    var head = el("tr", {}, [t("events.time"), t("events.person"), t("events.kind"), t("events.source"), t("events.reason")]
      .map(function (h) { return el("th", { scope: "col", text: h }); }), onVoid ? el("th", { scope: "col", text: t("common.actions") }) : null);
    var rows = items.map(function (e) {
      return el("tr", { "data-event": e.id },
        el("td", { text: fmtTime(e.ts) }),
        el("td", { text: e.name || e.employee_no || e.person_key || e.person_id || t("now.unknown_person") }),
        el("td", { "class": "kind-" + e.kind, text: t("events.kind." + e.kind) }),
        el("td", { text: t("events.source." + e.source) }),
        el("td", { text: e.reason || "" }),
        onVoid ? el("td", {}, e.source === "manual" ? el("button", { type: "button", "class": "danger", text: t("events.void"),
          on: { click: function () { onVoid(e); } } }) : (e.source === "camera" && onWrong ? onWrong(e) : null)) : null);
    });
    return el("div", { "class": "table-wrap" }, el("table", { id: id }, el("thead", {}, head), el("tbody", {}, rows)));
  }

  /* ---- Events: filter, manual punch, void, CSV export ---------------------------------------- */

  function toRfc3339(local) { return local ? new Date(local).toISOString().replace(/\.\d+Z$/, "Z") : ""; }

  function drawEvents(main) {
    main.appendChild(el("h1", { text: t("events.title") }));
    var note = el("div", {});
    var since = el("input", { type: "datetime-local" });
    var until = el("input", { type: "datetime-local" });
    var person = el("select", {}, el("option", { value: "", text: t("events.any_person") }));
    var exportLink = el("a", { "class": "button", id: "export-csv", download: "events.csv", href: "/api/v1/events?format=csv", text: t("events.export") });
    var filter = el("form", { "class": "row", id: "events-filter" },
      field("ev-since", t("events.since"), since), field("ev-until", t("events.until"), until), field("ev-person", t("events.person"), person),
      el("button", { type: "submit", text: t("events.apply") }), exportLink);
    var list = el("div", {});
    var pPerson = el("select", { required: true });
    var pKind = el("select", {}, el("option", { value: "in", text: t("events.kind.in") }), el("option", { value: "out", text: t("events.kind.out") }));
    var pTs = el("input", { type: "datetime-local", step: "1" });
    var pReason = el("input", { type: "text", maxlength: "1000", required: true });
    var punch = el("form", { "class": "row", id: "punch-form" },
      field("punch-person", t("punch.person"), pPerson), field("punch-kind", t("punch.kind"), pKind),
      field("punch-ts", t("punch.ts"), pTs), field("punch-reason", t("punch.reason"), pReason),
      el("button", { type: "submit", id: "punch-submit", text: t("punch.submit") }));
    main.appendChild(el("section", { "class": "card", "aria-labelledby": "filter-h" }, el("h2", { id: "filter-h", text: t("events.filter") }), filter));
    main.appendChild(el("section", { "class": "card", "aria-labelledby": "punch-h" }, el("h2", { id: "punch-h", text: t("punch.title") }), punch));
    main.appendChild(note);
    main.appendChild(list);

    function query(csv) {
      var q = [];
      if (since.value) q.push("since=" + encodeURIComponent(toRfc3339(since.value)));
      if (until.value) q.push("until=" + encodeURIComponent(toRfc3339(until.value)));
      if (person.value) q.push("person_id=" + encodeURIComponent(person.value));
      q.push(csv ? "format=csv" : "limit=100");
      return "/api/v1/events?" + q.join("&");
    }
    function load() {
      exportLink.setAttribute("href", query(true));
      api("GET", query(false)).then(function (res) {
        list.textContent = "";
        if (!res.ok) { list.appendChild(msg("error", t("common.error", { detail: problemText(res) }))); return; }
        list.appendChild(eventsTable(res.json.items, voidPunch, "events-table", wrongPerson));
      });
    }
    /* "Wrong person" on a camera event: a reason and, if known, who it really was; the event is then
     * voided (it leaves reports and exports) and the row says so. */
    function wrongPerson(e) {
      var key = e.id.replace(/[^0-9a-f]/g, "");
      var reason = el("input", { type: "text", maxlength: "1000", required: true });
      var actual = el("select", {}, el("option", { value: "", text: t("misid.actual_unknown") }));
      Array.prototype.forEach.call(person.options, function (o) {
        if (o.value && o.value !== e.person_id) actual.appendChild(el("option", { value: o.value, text: o.textContent }));
      });
      var err = el("div", {});
      var form = el("form", { "class": "row compact misid-form", hidden: true, "aria-label": t("misid.title") },
        field("misid-reason-" + key, t("misid.reason"), reason), field("misid-actual-" + key, t("misid.actual"), actual),
        el("button", { type: "submit", "class": "danger", text: t("misid.submit") }),
        el("button", { type: "button", "class": "secondary", text: t("misid.cancel"), on: { click: function () { form.hidden = true; open.focus(); } } }),
        err);
      var open = el("button", { type: "button", "class": "secondary misid-open", "aria-expanded": "false", text: t("misid.open"),
        on: { click: function () { form.hidden = !form.hidden; open.setAttribute("aria-expanded", String(!form.hidden)); if (!form.hidden) reason.focus(); } } });
      var cell = el("div", {}, open, form);
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var body = { reason: reason.value };
        if (actual.value) body.actual_person_id = actual.value;
        api("POST", "/api/v1/events/" + encodeURIComponent(e.id) + "/misidentified", body).then(function (res) {
          err.textContent = "";
          if (res.ok) {
            var row = cell.closest("tr");
            row.classList.add("voided");
            cell.textContent = "";
            cell.appendChild(el("span", { "class": "misid-done", role: "status", text: t("misid.done") }));
            toast(t("misid.done"));
          } else err.appendChild(msg("error", t(res.status === 409 ? "misid.conflict" : "common.error", { detail: problemText(res) })));
        });
      });
      return cell;
    }
    function voidPunch(e) {
      api("DELETE", "/api/v1/punches/" + encodeURIComponent(e.id)).then(function (res) {
        note.textContent = "";
        if (res.status === 204) { toast(t("events.voided")); load(); }
        else note.appendChild(msg("error", t("common.error", { detail: problemText(res) })));
      });
    }
    filter.addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
    punch.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var ts = pTs.value ? toRfc3339(pTs.value) : new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, "Z");
      api("POST", "/api/v1/punches", { person_id: pPerson.value, kind: pKind.value, ts: ts, reason: pReason.value }).then(function (res) {
        note.textContent = "";
        if (res.status === 201) { toast(t("punch.added")); pReason.value = ""; load(); }
        else note.appendChild(msg("error", t("common.error", { detail: problemText(res) })));
      });
    });
    api("GET", "/api/v1/people?limit=500").then(function (res) {
      if (!res.ok) return;
      res.json.items.forEach(function (p) {
        var label = p.name + " (" + p.employee_no + ")";
        person.appendChild(el("option", { value: p.id, text: label }));
        pPerson.appendChild(el("option", { value: p.id, text: label }));
      });
    });
    load();
  }

  /* ---- Attendance: month grid, a day's figures and their rules, exceptions, pay periods -------- */

  var STATUSES = ["present", "ok", "late", "early_leave", "missing_out", "absent", "unscheduled", "holiday", "leave", "off", "planned"];
  var EXC_ACTIONS = ["accept", "approve_overtime", "corrected", "mark_leave"];

  /* A cell's status: the pay engine's day status when the day has an open exception; otherwise what
   * the roster says (holiday, leave, a rest day, a day still to come) or "ok" (nothing open). */
  function cellStatus(day, excs, today) {
    if (excs && excs.length) return excs[0].status;
    if (day.holiday) return "holiday";
    if (day.leave) return "leave";
    if (!day.shifts || !day.shifts.length) return "off";
    return day.date >= today ? "planned" : "ok";
  }

  function lastOfMonth(month) {
    var d = new Date(month + "-01T00:00:00Z");
    d.setUTCMonth(d.getUTCMonth() + 1);
    d.setUTCDate(0);
    return d.toISOString().slice(0, 10);
  }

  /* The resolve controls of one open exception: an action, a reason, a button. */
  function resolveForm(x, done, note) {
    var label = (x.name || x.person_id) + ", " + x.date + ", " + t("exc.kind." + x.kind);
    var act = el("select", { "aria-label": t("exc.action") + ": " + label, "class": "exc-action" },
      EXC_ACTIONS.map(function (a) { return el("option", { value: a, text: t("exc.action." + a) }); }));
    if (x.kind === "overtime_unapproved") act.value = "approve_overtime";
    var reason = el("input", { type: "text", maxlength: "1000", required: true, "class": "exc-reason", "aria-label": t("exc.reason") + ": " + label });
    var form = el("form", { "class": "row compact exc-resolve" }, act, reason,
      el("button", { type: "submit", text: t("exc.resolve"), "aria-label": t("exc.resolve") + ": " + label }));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      note.textContent = "";
      api("POST", "/api/v1/exceptions/resolve", { person_id: x.person_id, date: x.date, kind: x.kind, action: act.value, reason: reason.value.trim() })
        .then(function (res) {
          if (res.ok) { toast(t("exc.resolved")); done(); }
          else note.appendChild(res.json && res.json.code === "period_closed" ? msg("error", t("exc.period_closed")) : errorBox(res));
        });
    });
    return form;
  }

  function excRow(x, done, note, withPerson) {
    return el("tr", { "data-kind": x.kind },
      withPerson ? el("td", {}, el("a", { href: "#/attendance/day/" + x.person_id + "/" + x.date, text: x.name || x.person_id })) : null,
      withPerson ? el("td", { text: x.date }) : null,
      el("td", {}, el("span", { "class": "st st-" + x.status, text: t("exc.kind." + x.kind) })),
      el("td", { text: t("exc.severity." + x.severity) }),
      el("td", { text: String(x.minutes) }),
      el("td", { text: t("exc.rule." + x.kind) }),
      el("td", {}, resolveForm(x, done, note)));
  }

  function drawAttendance(main, hash) {
    var m = /^#\/attendance\/day\/([0-9a-f-]{36})\/(\d{4}-\d{2}-\d{2})$/.exec(hash);
    if (m) { drawDay(main, m[1], m[2]); return; }
    main.appendChild(el("h1", { text: t("att.title") }));
    var q = hashQuery(hash);
    var dept = el("select", { required: true });
    var month = el("input", { type: "month", required: true, value: q.month || localDate(new Date()).slice(0, 7) });
    var pick = el("form", { "class": "row", id: "att-form" }, field("att-dept", t("att.department"), dept), field("att-month", t("att.month"), month),
      el("button", { type: "submit", id: "att-show", text: t("att.show") }));
    var grid = el("section", { "class": "card", "aria-labelledby": "grid-h" });
    var excBox = el("section", { "class": "card", "aria-labelledby": "exc-h" });
    var periods = el("section", { "class": "card", "aria-labelledby": "periods-h" });
    main.appendChild(el("section", { "class": "card", "aria-label": t("att.choose") }, pick));
    main.appendChild(grid);
    main.appendChild(excBox);
    main.appendChild(periods);
    pick.addEventListener("submit", function (ev) {
      ev.preventDefault();
      location.hash = "#/attendance?department=" + encodeURIComponent(dept.value) + "&month=" + month.value;
    });
    /* an account limited to wards (a manager) chooses among them; anyone else among the departments people have */
    var wards = state.session.user.departments || [];
    var depts = wards.length ? Promise.resolve({ ok: true, json: { items: wards.map(function (w) { return { department: w }; }) } })
      : api("GET", "/api/v1/people?limit=500");
    depts.then(function (res) {
      if (!res.ok) { grid.appendChild(errorBox(res)); return; }
      var seen = {};
      res.json.items.forEach(function (p) { if (p.department) seen[p.department] = true; });
      Object.keys(seen).sort().forEach(function (d) { dept.appendChild(el("option", { value: d, text: d })); });
      if (q.department && seen[q.department]) dept.value = q.department;
      if (dept.value && /^\d{4}-\d{2}$/.test(month.value)) loadMonth();
      else grid.appendChild(el("p", { text: t("common.none") }));
    });
    loadPeriods();

    function loadMonth() {
      var from = month.value + "-01", to = lastOfMonth(month.value), today = localDate(new Date());
      var dept_q = "&department=" + encodeURIComponent(dept.value);
      /* exceptions up to today: a shift still to come is not absent yet */
      var excTo = to < today ? to : today;
      var excs = excTo < from ? Promise.resolve({ ok: true, json: { items: [] } })
        : api("GET", "/api/v1/exceptions?from=" + from + "&to=" + excTo + dept_q);
      Promise.all([api("GET", "/api/v1/roster?from=" + from + "&to=" + to + dept_q), excs]).then(function (rs) {
        grid.textContent = "";
        excBox.textContent = "";
        var title = t("att.grid", { department: dept.value, month: month.value });
        grid.appendChild(el("h2", { id: "grid-h", text: title }));
        excBox.appendChild(el("h2", { id: "exc-h", text: t("exc.title") }));
        if (!rs[0].ok) { grid.appendChild(errorBox(rs[0])); return; }
        if (!rs[1].ok) { grid.appendChild(errorBox(rs[1])); return; }
        var open = {};
        rs[1].json.items.forEach(function (x) { var k = x.person_id + "/" + x.date; (open[k] = open[k] || []).push(x); });
        var people = rs[0].json.items;
        if (!people.length) { grid.appendChild(el("p", { text: t("common.none") })); }
        else {
          var days = people[0].days.map(function (d) { return d.date; });
          var head = el("tr", {}, el("th", { scope: "col", text: t("people.name") }),
            days.map(function (d) { return el("th", { scope: "col", "class": "day", text: String(Number(d.slice(8))) }); }));
          var rows = people.map(function (p) {
            return el("tr", { "data-person": p.person_id }, el("th", { scope: "row", text: p.name || p.employee_no }),
              p.days.map(function (d) {
                var st = cellStatus(d, open[p.person_id + "/" + d.date], today);
                return el("td", { "class": "cell st-" + st, "data-status": st, "data-date": d.date },
                  el("a", { href: "#/attendance/day/" + p.person_id + "/" + d.date, title: t("status." + st),
                    "aria-label": (p.name || p.employee_no) + ", " + d.date + ": " + t("status." + st), text: t("status.short." + st) }));
              }));
          });
          grid.appendChild(el("div", { "class": "table-wrap" }, el("table", { id: "att-grid", "class": "grid-month" }, el("thead", {}, head), el("tbody", {}, rows))));
          grid.appendChild(el("ul", { "class": "legend", "aria-label": t("att.legend") }, STATUSES.map(function (s) {
            return el("li", {}, el("span", { "class": "cell st-" + s, text: t("status.short." + s) }), " " + t("status." + s));
          })));
        }
        var note = el("div", {});
        excBox.appendChild(note);
        var items = rs[1].json.items;
        if (!items.length) { excBox.appendChild(el("p", { id: "exc-none", text: t("exc.none") })); return; }
        excBox.appendChild(table("exc-table", ["people.name", "exc.date", "exc.kind", "exc.severity", "exc.minutes", "exc.rule", "exc.resolve"],
          items.map(function (x) { return excRow(x, loadMonth, note, true); })));
      });
    }

    function loadPeriods() {
      var admin = state.session.user.role === "admin";
      api("GET", "/api/v1/periods").then(function (res) {
        periods.textContent = "";
        periods.appendChild(el("h2", { id: "periods-h", text: t("period.title") }));
        var note = el("div", {});
        periods.appendChild(note);
        if (!res.ok) { periods.appendChild(errorBox(res)); return; }
        var rows = res.json.items.map(function (p) {
          var reason = el("input", { type: "text", maxlength: "1000", required: true, "aria-label": t("period.reason") + ": " + p.name });
          var act = el("form", { "class": "row compact period-switch" }, reason,
            el("button", { type: "submit", "class": p.closed ? "secondary" : "danger", text: t(p.closed ? "period.reopen" : "period.close"),
              "aria-label": t(p.closed ? "period.reopen" : "period.close") + ": " + p.name }));
          act.addEventListener("submit", function (ev) {
            ev.preventDefault();
            api("POST", "/api/v1/periods/" + p.id + (p.closed ? "/reopen" : "/close"), { reason: reason.value.trim() }).then(function (r) {
              if (r.ok) { toast(t(p.closed ? "period.reopened" : "period.closed_now")); loadPeriods(); }
              else note.appendChild(errorBox(r));
            });
          });
          return el("tr", { "data-period": p.id }, el("td", { text: p.name }), el("td", { text: p.from }), el("td", { text: p.to }),
            el("td", {}, el("span", { "class": "badge " + (p.closed ? "closed" : "open"), text: t(p.closed ? "period.state.closed" : "period.state.open") })),
            el("td", {}, admin ? act : null));
        });
        periods.appendChild(rows.length ? table("periods-table", ["period.name", "period.from", "period.to", "period.state", "common.actions"], rows)
          : el("p", { text: t("common.none") }));
        if (!admin) return;
        var name = el("input", { type: "text", required: true, maxlength: "100" });
        var pf = el("input", { type: "date", required: true });
        var pt = el("input", { type: "date", required: true });
        var add = el("form", { "class": "row", id: "period-form" }, field("period-name", t("period.name"), name),
          field("period-from", t("period.from"), pf), field("period-to", t("period.to"), pt),
          el("button", { type: "submit", id: "period-submit", text: t("period.add") }));
        add.addEventListener("submit", function (ev) {
          ev.preventDefault();
          api("POST", "/api/v1/periods", { name: name.value.trim(), from: pf.value, to: pt.value }).then(function (r) {
            if (r.status === 201) { toast(t("period.added")); loadPeriods(); }
            else note.appendChild(errorBox(r));
          });
        });
        periods.appendChild(el("h3", { text: t("period.add") }));
        periods.appendChild(add);
      });
    }
  }

  /* One person's work day: the plan and where it came from, the punches, each figure with the rule
   * that produced it, and the day's open exceptions with their resolve controls. */
  function drawDay(main, pid, date) {
    main.appendChild(el("p", {}, el("a", { href: "#/attendance", text: t("day.back") })));
    var head = el("h1", { text: t("day.title", { date: date }) });
    var plan = el("section", { "class": "card", "aria-labelledby": "plan-h" });
    var punches = el("section", { "class": "card", "aria-labelledby": "punches-h" });
    var figures = el("section", { "class": "card", "aria-labelledby": "figures-h" });
    var excs = el("section", { "class": "card", "aria-labelledby": "dayexc-h" });
    [head, plan, punches, figures, excs].forEach(function (n) { main.appendChild(n); });
    var dq = "from=" + date + "&to=" + date + "&person_id=" + pid;
    var evq = "person_id=" + pid + "&limit=500&since=" + addDays(date, -1) + "T00:00:00Z&until=" + addDays(date, 2) + "T00:00:00Z";
    function load() {
      Promise.all([api("GET", "/api/v1/roster?" + dq), api("GET", "/api/v1/attendance?" + dq), api("GET", "/api/v1/exceptions?" + dq),
        api("GET", "/api/v1/events?" + evq)]).then(function (rs) {
        [plan, punches, figures, excs].forEach(function (n) { n.textContent = ""; });
        plan.appendChild(el("h2", { id: "plan-h", text: t("day.plan") }));
        punches.appendChild(el("h2", { id: "punches-h", text: t("day.punches") }));
        figures.appendChild(el("h2", { id: "figures-h", text: t("day.figures") }));
        excs.appendChild(el("h2", { id: "dayexc-h", text: t("exc.title") }));
        for (var i = 0; i < rs.length; i++) if (!rs[i].ok) { plan.appendChild(errorBox(rs[i])); return; }
        if (!rs[0].json.items.length) { plan.appendChild(msg("error", t("person.not_found"))); return; }
        var person = rs[0].json.items[0], day = person.days[0], row = rs[1].json.items[0];
        head.textContent = t("day.title_person", { name: person.name || person.employee_no, date: date });
        /* plan: the shifts and the rule that chose them */
        plan.appendChild(el("p", { id: "plan-source", text: t("rule.source." + day.source) }));
        if (day.holiday) plan.appendChild(el("p", { text: t("day.holiday") }));
        if (day.leave) plan.appendChild(el("p", { text: t("day.leave", { type: day.leave }) }));
        plan.appendChild(day.shifts && day.shifts.length ? el("ul", {}, day.shifts.map(function (s) {
          return el("li", { text: s.name + " " + fmtClock(s.start) + "–" + fmtClock(s.end) });
        })) : el("p", { text: t("day.no_shift") }));
        /* punches of this work day: those within the boundaries the report drew (cut-off, shifts) */
        var from = row ? Date.parse(row.day_from) : 0, until = row ? Date.parse(row.day_until) : 0;
        var mine = rs[3].json.items.filter(function (e) { var ms = Date.parse(e.ts); return ms >= from && ms < until; });
        mine.sort(function (a, b) { return a.ts < b.ts ? -1 : 1; });
        punches.appendChild(mine.length ? table("day-punches", ["events.time", "events.kind", "events.source", "events.reason"], mine.map(function (e) {
          return el("tr", {}, el("td", { text: fmtTime(e.ts) }), el("td", { "class": "kind-" + e.kind, text: t("events.kind." + e.kind) }),
            el("td", { text: t("events.source." + e.source) }), el("td", { text: e.reason || "" }));
        })) : el("p", { text: t("day.no_punches") }));
        if (row) punches.appendChild(el("p", { "class": "hint", text: t("day.bounds", { from: fmtTime(row.day_from), until: fmtTime(row.day_until) }) }));
        /* figures: the report's numbers, each with its rule */
        function show(shift) {
          var g = shift ? { grace_late: shift.grace_late_min, grace_early: shift.grace_early_min, brk: shift.break_min } : null;
          var fig = [
            ["fig.scheduled", String(day.scheduled_minutes), t("rule.scheduled")],
            ["fig.first_in", row && row.first_in ? fmtTime(row.first_in) : "—", t("rule.first_in")],
            ["fig.last_out", row && row.last_out ? fmtTime(row.last_out) : "—", t("rule.last_out")],
            ["fig.worked", row ? String(row.worked_minutes) : "—", g ? t("rule.worked", { brk: g.brk }) : t("rule.worked_noshift")],
            ["fig.late", row ? String(row.late_minutes) : "—", g ? t("rule.late", { grace: g.grace_late }) : t("rule.no_shift")],
            ["fig.early", row ? String(row.early_leave_minutes) : "—", g ? t("rule.early", { grace: g.grace_early }) : t("rule.no_shift")],
            ["fig.overtime", row ? String(row.overtime_minutes) : "—", g ? t("rule.overtime", { brk: g.brk }) : t("rule.overtime_noshift")],
            ["fig.status", row ? t("status." + row.status) : "—", t("rule.status")]
          ];
          figures.appendChild(el("div", { "class": "table-wrap" }, el("table", { id: "day-figures" },
            el("thead", {}, el("tr", {}, ["fig.figure", "fig.value", "fig.rule"].map(function (k) { return el("th", { scope: "col", text: t(k) }); }))),
            el("tbody", {}, fig.map(function (f) {
              return el("tr", { "data-figure": f[0] }, el("th", { scope: "row", text: t(f[0]) }), el("td", { text: f[1] }), el("td", { text: f[2] }));
            })))));
        }
        if (row && row.shift) api("GET", "/api/v1/shifts/" + row.shift.id).then(function (s) { show(s.ok ? s.json : null); });
        else show(null);
        var note = el("div", {});
        excs.appendChild(note);
        var items = rs[2].json.items;
        excs.appendChild(items.length ? table("day-exc", ["exc.kind", "exc.severity", "exc.minutes", "exc.rule", "exc.resolve"],
          items.map(function (x) { return excRow(x, load, note, false); })) : el("p", { id: "exc-none", text: t("exc.none") }));
      });
    }
    load();
  }

  /* ---- People: the roster, a person, enrolment from a photo ---------------------------------- */

  function drawPeople(main, hash) {
    var m = /^#\/people\/([0-9a-f-]{36})$/.exec(hash);
    if (m) { drawPerson(main, m[1]); return; }
    main.appendChild(el("h1", { text: t("people.title") }));
    var q = el("input", { type: "search" });
    var search = el("form", { "class": "row", role: "search" }, field("people-q", t("people.search"), q), el("button", { type: "submit", text: t("common.search") }));
    var list = el("div", {});
    main.appendChild(search);
    main.appendChild(list);
    if (state.session.user.role === "admin") {
      var no = el("input", { type: "text", required: true, maxlength: "64" });
      var name = el("input", { type: "text", required: true });
      var dept = el("input", { type: "text", required: true });
      var title = el("input", { type: "text" });
      var note = el("div", {});
      var add = el("form", { "class": "row", id: "person-form" },
        field("person-no", t("people.employee_no"), no), field("person-name", t("people.name"), name),
        field("person-dept", t("people.department"), dept), field("person-title", t("people.title_col"), title),
        el("button", { type: "submit", id: "person-submit", text: t("people.add") }));
      add.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var body = { employee_no: no.value.trim(), name: name.value.trim(), department: dept.value.trim() };
        if (title.value.trim()) body.title = title.value.trim();
        api("POST", "/api/v1/people", body).then(function (res) {
          note.textContent = "";
          if (res.status === 201) { location.hash = "#/people/" + res.json.id; toast(t("people.added", { name: res.json.name })); }
          else note.appendChild(msg("error", t("common.error", { detail: problemText(res) })));
        });
      });
      main.appendChild(el("section", { "class": "card", "aria-labelledby": "add-h" }, el("h2", { id: "add-h", text: t("people.add") }), note, add));
    }
    function load() {
      var path = "/api/v1/people?limit=200" + (q.value.trim() ? "&q=" + encodeURIComponent(q.value.trim()) : "");
      api("GET", path).then(function (res) {
        list.textContent = "";
        if (!res.ok) { list.appendChild(msg("error", t("common.error", { detail: problemText(res) }))); return; }
        if (!res.json.items.length) { list.appendChild(el("p", { text: t("common.none") })); return; }
        var head = el("tr", {}, [t("people.employee_no"), t("people.name"), t("people.department"), t("people.title_col"), t("people.active")]
          .map(function (h) { return el("th", { scope: "col", text: h }); }));
        var rows = res.json.items.map(function (p) {
          return el("tr", {}, el("td", { text: p.employee_no || "" }),
            el("td", {}, el("a", { href: "#/people/" + p.id, text: p.name || p.id })),
            el("td", { text: p.department || "" }), el("td", { text: p.title || "" }),
            el("td", { text: p.active ? t("common.yes") : t("common.no") }));
        });
        list.appendChild(el("div", { "class": "table-wrap" }, el("table", { id: "people-table" }, el("thead", {}, head), el("tbody", {}, rows))));
      });
    }
    search.addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
    load();
  }

  function qualityList(q) {
    if (!q) return null;
    var items = [];
    [["size_px", 0], ["sharpness", 0], ["frontalness", 2], ["liveness", 2]].forEach(function (k) {
      if (typeof q[k[0]] === "number") items.push(el("dt", { text: t("quality." + k[0]) }), el("dd", { text: q[k[0]].toFixed(k[1]) }));
    });
    return el("div", {}, el("h3", { text: t("quality.title") }), el("dl", { "class": "quality" }, items));
  }

  function drawPerson(main, id) {
    var back = el("p", {}, el("a", { href: "#/people", text: t("person.back") }));
    main.appendChild(back);
    var head = el("div", {});
    var faces = el("section", { "class": "card", "aria-labelledby": "faces-h" });
    var enrolBox = el("section", { "class": "card", "aria-labelledby": "enrol-h" });
    main.appendChild(head);
    main.appendChild(faces);
    api("GET", "/api/v1/people/" + id).then(function (res) {
      if (!res.ok) { head.appendChild(msg("error", t("person.not_found"))); return; }
      var p = res.json;
      head.appendChild(el("h1", { text: p.name }));
      head.appendChild(el("p", { text: [p.employee_no, p.department, p.title].filter(Boolean).join(" · ") }));
    });
    function loadFaces() {
      api("GET", "/api/v1/people/" + id + "/faces").then(function (res) {
        faces.textContent = "";
        var items = res.ok ? (res.json.items || []) : [];
        faces.appendChild(el("h2", { id: "faces-h", text: t("person.faces", { n: items.length }) }));
        if (!items.length) { faces.appendChild(el("p", { text: t("common.none") })); return; }
        faces.appendChild(el("ul", { id: "faces-list" }, items.map(function (f) {
          return el("li", {}, t("person.enrolled_at") + ": " + fmtTime(f.created_at));
        })));
      });
    }
    loadFaces();
    var consentBox = el("section", { "class": "card", "aria-labelledby": "consent-h" });
    main.appendChild(consentBox);
    function loadConsent() {
      api("GET", "/api/v1/people/" + id + "/consent").then(function (res) {
        consentBox.textContent = "";
        consentBox.appendChild(el("h2", { id: "consent-h", text: t("consent.title") }));
        if (!res.ok) { consentBox.appendChild(msg("error", t("common.error", { detail: problemText(res) }))); return; }
        var c = res.json;
        consentBox.appendChild(el("p", { id: "consent-state", text: t("consent.state." + c.state) +
          (c.text_version ? " · " + t("consent.version", { v: c.text_version }) : "") }));
        if (state.session.user.role !== "admin" || c.state === "given") return;
        api("GET", "/api/v1/consent-texts").then(function (tr) {
          var texts = tr.ok ? tr.json.items : [];
          if (!texts.length) { consentBox.appendChild(el("p", { text: t("consent.no_texts") })); return; }
          var sel = el("select", {}, texts.map(function (x) {
            return el("option", { value: String(x.version), text: t("consent.version", { v: x.version }) + " (" + x.language + ")" });
          }));
          sel.value = String(texts[texts.length - 1].version);
          var form = el("form", { "class": "row", id: "consent-form" }, field("consent-text", t("consent.text"), sel),
            el("button", { type: "submit", id: "consent-submit", text: t("consent.give") }));
          form.addEventListener("submit", function (ev) {
            ev.preventDefault();
            api("POST", "/api/v1/people/" + id + "/consent", { state: "given", text_version: Number(sel.value) }).then(function (r) {
              if (r.ok) { toast(t("consent.recorded")); loadConsent(); }
              else consentBox.appendChild(msg("error", t("common.error", { detail: problemText(r) })));
            });
          });
          consentBox.appendChild(form);
        });
      });
    }
    loadConsent();
    if (state.session.user.role !== "admin") return;
    var file = el("input", { type: "file", accept: "image/jpeg,image/png" });
    var result = el("div", { id: "enrol-result", "aria-live": "polite" });
    var form = el("form", { "class": "row", id: "enrol-form" }, field("enrol-file", t("person.photo"), file),
      el("button", { type: "submit", id: "enrol-submit", text: t("person.upload") }));
    /* Send one photo (a file or a webcam frame) and show the quality report or the refusal. */
    function enrol(blob, type) {
      result.textContent = "";
      api("POST", "/api/v1/people/" + id + "/faces", blob, type).then(function (res) {
        if (res.status === 201) {
          result.appendChild(msg("ok", t("person.enrolled")));
          result.appendChild(qualityList(res.json.quality));
          loadFaces();
          return;
        }
        var code = res.json && res.json.code;
        var key = "refusal." + code;
        var text = CAT.en[key] ? t(key) : t("refusal.other", { detail: problemText(res) });
        var box = el("div", { "class": "msg error", role: "alert", id: "enrol-refusal" },
          el("strong", { text: t("person.refused") + " " }), text);
        if (res.json && res.json.detail) box.appendChild(el("div", { text: res.json.detail }));
        result.appendChild(box);
        if (res.json && res.json.quality) result.appendChild(qualityList(res.json.quality));
      });
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = file.files[0];
      if (!f) return;
      enrol(f, f.type || "application/octet-stream");
    });
    /* the webcam: a live preview, one frame taken as a JPEG and enrolled like an uploaded photo */
    var video = el("video", { id: "webcam-video", autoplay: true, muted: true, playsinline: true, "aria-label": t("webcam.preview") });
    video.muted = true;
    video.hidden = true;
    var camNote = el("div", { id: "webcam-note", "aria-live": "polite" });
    var startCam = el("button", { type: "button", id: "webcam-start", "class": "secondary", text: t("webcam.start") });
    var takeCam = el("button", { type: "button", id: "webcam-take", text: t("webcam.take"), hidden: true });
    var stopCam = el("button", { type: "button", id: "webcam-stop", "class": "secondary", text: t("webcam.stop"), hidden: true });
    function camOff() {
      if (state.stream) { state.stream.getTracks().forEach(function (tr) { tr.stop(); }); state.stream = null; }
      video.srcObject = null;
      video.hidden = true; takeCam.hidden = true; stopCam.hidden = true; startCam.hidden = false;
    }
    startCam.addEventListener("click", function () {
      camNote.textContent = "";
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { camNote.appendChild(msg("error", t("webcam.unsupported"))); return; }
      navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false }).then(function (stream) {
        state.stream = stream;
        video.srcObject = stream;
        video.hidden = false; takeCam.hidden = false; stopCam.hidden = false; startCam.hidden = true;
        takeCam.focus();
      }, function (err) {
        camNote.appendChild(msg("error", t(err && err.name === "NotAllowedError" ? "webcam.denied" : "webcam.failed", { detail: err && err.name })));
      });
    });
    takeCam.addEventListener("click", function () {
      if (!video.videoWidth) { camNote.textContent = ""; camNote.appendChild(msg("error", t("webcam.not_ready"))); return; }
      var canvas = document.createElement("canvas");
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      canvas.toBlob(function (b) {
        if (!b) { camNote.appendChild(msg("error", t("webcam.failed", { detail: "toBlob" }))); return; }
        camOff();
        enrol(b, "image/jpeg");
      }, "image/jpeg", 0.92);
    });
    stopCam.addEventListener("click", camOff);
    var cam = el("div", { "class": "webcam", id: "webcam" }, el("h3", { text: t("webcam.title") }), el("p", { "class": "hint", text: t("webcam.hint") }),
      video, el("div", { "class": "row" }, startCam, takeCam, stopCam), camNote);
    enrolBox.appendChild(el("h2", { id: "enrol-h", text: t("person.enrol") }));
    enrolBox.appendChild(form);
    enrolBox.appendChild(cam);
    enrolBox.appendChild(result);
    main.appendChild(enrolBox);
  }

  /* ---- Cameras: status and a snapshot of the current frame ------------------------------------ */

  function drawCameras(main) {
    main.appendChild(el("h1", { text: t("cameras.title") }));
    var list = el("div", {});
    var snap = el("section", { "class": "card", "aria-labelledby": "snap-h", id: "snapshot", hidden: true });
    main.appendChild(list);
    main.appendChild(snap);
    var shown = null;
    api("GET", "/api/v1/cameras").then(function (res) {
      if (!res.ok) { list.appendChild(errorBox(res)); return; }
      if (!res.json.items.length) { list.appendChild(el("p", { text: t("common.none") })); return; }
      var admin = state.session.user.role === "admin";
      var rows = res.json.items.map(function (c) {
        var btn = el("button", { type: "button", "class": "secondary snap-btn", "aria-label": t("cameras.snapshot_of", { name: c.name }),
          text: t("cameras.snapshot"), on: { click: function () { showSnapshot(c); } } });
        return el("tr", { "data-camera": c.id }, el("td", { text: c.name }), el("td", { text: c.role }), el("td", {}, el("span", { "class": "badge", text: c.state })),
          el("td", { text: typeof c.input_fps === "number" ? c.input_fps.toFixed(1) : "" }),
          el("td", { text: fmtTime(c.last_frame_time) }), el("td", { text: c.last_error || "" }), el("td", {}, admin ? btn : null));
      });
      list.appendChild(table("cameras-table", ["cameras.name", "cameras.role", "cameras.state", "cameras.fps", "cameras.last_frame", "cameras.last_error", "common.actions"], rows));
    });
    function showSnapshot(c) {
      snap.hidden = false;
      snap.textContent = "";
      snap.appendChild(el("h2", { id: "snap-h", text: t("cameras.snapshot_of", { name: c.name }) }));
      fetch("/api/v1/cameras/" + c.id + "/snapshot", { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) {
          return r.text().then(function (txt) {
            var j = null;
            try { j = JSON.parse(txt); } catch (e) { j = null; }
            snap.appendChild(errorBox({ status: r.status, json: j }));
          });
        }
        return r.blob().then(function (b) {
          if (shown) URL.revokeObjectURL(shown);
          shown = URL.createObjectURL(b);
          snap.appendChild(el("img", { id: "snapshot-img", src: shown, alt: t("cameras.snapshot_alt", { name: c.name }) }));
          snap.appendChild(el("p", { "class": "hint", text: t("cameras.snapshot_hint", { time: fmtTime(new Date().toISOString()) }) }));
        });
      });
    }
  }

  /* ---- Admin: tokens and the audit log --------------------------------------------------------- */

  function drawAdmin(main) {
    main.appendChild(el("h1", { text: t("admin.title") }));
    if (state.session.user.role !== "admin") { main.appendChild(msg("error", t("admin.forbidden"))); return; }
    var tokens = el("div", {});
    var secret = el("div", { "aria-live": "polite" });
    var name = el("input", { type: "text", required: true, maxlength: "127" });
    var role = el("select", {}, el("option", { value: "hr", text: t("role.hr") }), el("option", { value: "admin", text: t("role.admin") }));
    var pseudo = el("input", { type: "checkbox" });
    var create = el("form", { "class": "row", id: "token-form" }, field("token-name", t("admin.token_name"), name),
      field("token-role", t("admin.token_role"), role), field("token-pseudo", t("admin.token_pseudonymous"), pseudo),
      el("button", { type: "submit", text: t("admin.token_create") }));
    main.appendChild(el("section", { "class": "card", "aria-labelledby": "tokens-h" }, el("h2", { id: "tokens-h", text: t("admin.tokens") }), create, secret, tokens));
    var accounts = el("div", {});
    var accNote = el("div", { "aria-live": "polite" });
    var uName = el("input", { type: "text", required: true, maxlength: "64", pattern: "[a-z0-9][a-z0-9._-]*", autocomplete: "off" });
    var uDisplay = el("input", { type: "text", required: true, maxlength: "200" });
    var uRole = el("select", {}, ["hr", "manager", "admin"].map(function (r) { return el("option", { value: r, text: t("role." + r) }); }));
    var uDept = el("input", { type: "text", maxlength: "3400" });
    var uForm = el("form", { "class": "row", id: "user-form" }, field("user-name", t("users.username"), uName),
      field("user-display", t("users.display_name"), uDisplay), field("user-role", t("users.role"), uRole),
      field("user-dept", t("users.department"), uDept), el("button", { type: "submit", id: "user-submit", text: t("users.create") }));
    main.appendChild(el("section", { "class": "card", "aria-labelledby": "users-h" }, el("h2", { id: "users-h", text: t("users.title") }), uForm, accNote, accounts));
    var retention = el("section", { "class": "card", "aria-labelledby": "retention-h" });
    main.appendChild(retention);
    var action = el("input", { type: "text", maxlength: "100" });
    var audit = el("div", {});
    var tType = el("input", { type: "text", maxlength: "50" });
    var tId = el("input", { type: "text", maxlength: "200" });
    var filter = el("form", { "class": "row", id: "audit-filter" }, field("audit-action", t("admin.audit_action"), action),
      field("audit-target-type", t("admin.audit_target_type"), tType), field("audit-target-id", t("admin.audit_target_id"), tId),
      el("button", { type: "submit", id: "audit-search", text: t("common.search") }));
    main.appendChild(el("section", { "class": "card", "aria-labelledby": "audit-h" }, el("h2", { id: "audit-h", text: t("admin.audit") }), filter, audit));

    function loadTokens() {
      api("GET", "/api/v1/tokens").then(function (res) {
        tokens.textContent = "";
        if (!res.ok) { tokens.appendChild(msg("error", t("common.error", { detail: problemText(res) }))); return; }
        var head = el("tr", {}, ["admin.token_name", "admin.token_role", "admin.token_pseudonymous", "admin.token_created", "admin.token_last_used", "admin.token_revoked", "common.actions"]
          .map(function (k) { return el("th", { scope: "col", text: t(k) }); }));
        var rows = res.json.tokens.map(function (tk) {
          return el("tr", {}, el("td", { text: tk.name }), el("td", { text: tk.role }), el("td", { text: tk.pseudonymous ? t("common.yes") : t("common.no") }),
            el("td", { text: fmtTime(tk.created_at) }), el("td", { text: fmtTime(tk.last_used_at) }),
            el("td", { text: tk.revoked ? t("common.yes") : t("common.no") }),
            el("td", {}, tk.revoked ? null : el("button", { type: "button", "class": "danger", "aria-label": t("admin.revoke") + " " + tk.name, text: t("admin.revoke"),
              on: { click: function () { api("DELETE", "/api/v1/tokens/" + tk.id).then(loadTokens); } } })));
        });
        tokens.appendChild(el("div", { "class": "table-wrap" }, el("table", { id: "tokens-table" }, el("thead", {}, head), el("tbody", {}, rows))));
      });
    }
    function loadAudit(cursor, append) {
      var q = "/api/v1/audit?limit=50" + (action.value.trim() ? "&action=" + encodeURIComponent(action.value.trim()) : "") +
        (tType.value.trim() ? "&target_type=" + encodeURIComponent(tType.value.trim()) : "") +
        (tId.value.trim() ? "&target_id=" + encodeURIComponent(tId.value.trim()) : "") +
        (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
      api("GET", q).then(function (res) {
        if (!append) audit.textContent = "";
        var old = document.getElementById("audit-more");
        if (old) old.remove();
        if (!res.ok) { audit.appendChild(msg("error", t("common.error", { detail: problemText(res) }))); return; }
        var head = el("tr", {}, ["admin.audit_ts", "admin.audit_actor", "admin.audit_action", "admin.audit_target", "admin.audit_outcome", "admin.audit_detail"]
          .map(function (k) { return el("th", { scope: "col", text: t(k) }); }));
        var rows = res.json.items.map(function (a) {
          return el("tr", {}, el("td", { text: fmtTime(a.ts) }), el("td", { text: a.actor }), el("td", { text: a.action }),
            el("td", { text: [a.target_type, a.target_id].filter(Boolean).join(" ") }), el("td", { text: a.outcome }),
            el("td", {}, a.detail ? el("code", { "class": "detail", text: JSON.stringify(a.detail) }) : null));
        });
        audit.appendChild(el("div", { "class": "table-wrap" }, el("table", { "class": "audit-table" }, el("thead", {}, head), el("tbody", {}, rows))));
        if (res.json.next_cursor) audit.appendChild(el("button", { type: "button", id: "audit-more", "class": "secondary", text: t("common.more"),
          on: { click: function () { loadAudit(res.json.next_cursor, true); } } }));
      });
    }
    create.addEventListener("submit", function (ev) {
      ev.preventDefault();
      api("POST", "/api/v1/tokens", { name: name.value.trim(), role: role.value, pseudonymous: pseudo.checked }).then(function (res) {
        secret.textContent = "";
        if (res.status !== 201) { secret.appendChild(msg("error", t("common.error", { detail: problemText(res) }))); return; }
        secret.appendChild(el("p", { text: t("admin.token_secret") }));
        secret.appendChild(el("code", { "class": "secret", text: res.json.token }));
        name.value = "";
        loadTokens();
      });
    });
    filter.addEventListener("submit", function (ev) { ev.preventDefault(); loadAudit(null, false); });
    function loadAccounts() {
      api("GET", "/api/v1/users").then(function (res) {
        accounts.textContent = "";
        if (!res.ok) { accounts.appendChild(errorBox(res)); return; }
        var rows = res.json.items.map(function (u) {
          return el("tr", { "data-user": u.username }, el("td", { text: u.username }), el("td", { text: u.display_name }),
            el("td", { text: t("role." + u.role) }), el("td", { text: (u.departments || []).join(", ") }),
            el("td", { text: u.totp ? t("common.yes") : t("common.no") }), el("td", { text: fmtTime(u.created_at) }),
            el("td", { "class": "user-state", text: u.disabled ? t("users.disabled") : t("users.enabled") }),
            el("td", {}, u.disabled || u.id === state.session.user.id ? null : el("button", { type: "button", "class": "danger",
              "aria-label": t("users.disable") + " " + u.username, text: t("users.disable"),
              on: { click: function () {
                api("DELETE", "/api/v1/users/" + u.id).then(function (r) {
                  accNote.textContent = "";
                  if (r.status === 204) { toast(t("users.disabled_now", { name: u.username })); loadAccounts(); }
                  else accNote.appendChild(errorBox(r));
                });
              } } })));
        });
        accounts.appendChild(table("users-table", ["users.username", "users.display_name", "users.role", "users.department", "users.totp",
          "users.created", "users.state", "common.actions"], rows));
      });
    }
    uForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = { username: uName.value.trim(), display_name: uDisplay.value.trim(), role: uRole.value };
      var wards = uDept.value.split(",").map(function (w) { return w.trim(); }).filter(Boolean);
      if (wards.length) body.departments = wards;
      api("POST", "/api/v1/users", body).then(function (res) {
        accNote.textContent = "";
        if (res.status !== 201) { accNote.appendChild(errorBox(res)); return; }
        accNote.appendChild(el("p", { text: t("users.password", { name: res.json.username }) }));
        accNote.appendChild(el("code", { "class": "secret", id: "user-password", text: res.json.password }));
        uName.value = ""; uDisplay.value = ""; uDept.value = "";
        loadAccounts();
      });
    });
    function loadRetention() {
      api("GET", "/api/v1/retention").then(function (res) {
        retention.textContent = "";
        retention.appendChild(el("h2", { id: "retention-h", text: t("retention.title") }));
        if (!res.ok) { retention.appendChild(errorBox(res)); return; }
        var r = res.json;
        var rows = [
          ["retention.templates", r.templates_inactive_days ? t("retention.days", { n: r.templates_inactive_days }) : t("retention.forever")],
          ["retention.events", r.events_action === "keep" ? t("retention.forever") : t("retention.years", { n: r.events_years }) + " · " + t("retention.action." + r.events_action)],
          ["retention.audit", r.audit_years ? t("retention.years", { n: r.audit_years }) : t("retention.forever")],
          ["retention.hour", t("retention.hour_utc", { h: r.hour_utc })],
          ["retention.last_run", r.last_run ? fmtTime(r.last_run) : t("retention.never")],
          ["retention.next_run", r.next_run ? fmtTime(r.next_run) : "—"]
        ];
        retention.appendChild(el("dl", { "class": "quality", id: "retention-policy" }, rows.map(function (x) {
          return [el("dt", { text: t(x[0]) }), el("dd", { text: x[1] })];
        }).reduce(function (a, b) { return a.concat(b); }, [])));
        retention.appendChild(el("p", { "class": "hint", text: t("retention.hint") }));
      });
    }
    loadAccounts();
    loadRetention();
    loadTokens();
    loadAudit(null, false);
  }

  /* ---- start ------------------------------------------------------------------------------------ */

  function start() {
    document.getElementById("lang").addEventListener("change", function (ev) {
      state.lang = ev.target.value;
      try { window.localStorage.setItem("attendd.lang", state.lang); } catch (e) { /* private mode */ }
      if (state.session) route(); else showSignIn(null);
    });
    document.getElementById("signout").addEventListener("click", signOut);
    window.addEventListener("hashchange", route);
    drawChrome();
    fetch("/api/v1/session", { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (s) {
      if (s) { state.session = s; route(); } else showSignIn(null);
    }, function () { showSignIn(null); });
  }
  start();
})();
