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
    who.textContent = t("nav.signed_in_as", { name: u.display_name, role: t("role." + u.role) });
  }

  function currentPage() {
    var h = location.hash || "#/now";
    for (var i = 0; i < PAGES.length; i++) if (h === PAGES[i].hash || h.indexOf(PAGES[i].hash + "/") === 0) return PAGES[i];
    return PAGES[0];
  }

  function stopLive() { if (state.es) { state.es.close(); state.es = null; } state.now = null; }

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
    main.appendChild(status);
    main.appendChild(duty);
    main.appendChild(latest);
    var now = { events: [], wards: {}, seen: {} };
    state.now = now;
    var since = new Date(Date.now() - 24 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    var people = state.session.user.role === "manager" ? Promise.resolve(null) : api("GET", "/api/v1/people?limit=500");
    people.then(function (pr) {
      if (pr && pr.ok) pr.json.items.forEach(function (p) { now.wards[p.id] = p.department; });
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
      latest.textContent = "";
      latest.appendChild(el("h2", { id: "latest-h", text: t("now.latest") }));
      latest.appendChild(eventsTable(now.events.slice(0, 50), null, "now-events"));
    }
  }

  /* A table of events; onVoid (or null) adds a Void button to manual punches. */
  function eventsTable(items, onVoid, id) {
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
          on: { click: function () { onVoid(e); } } }) : null) : null);
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
    var manager = state.session.user.role === "manager";
    main.appendChild(el("section", { "class": "card", "aria-labelledby": "filter-h" }, el("h2", { id: "filter-h", text: t("events.filter") }), filter));
    if (!manager) main.appendChild(el("section", { "class": "card", "aria-labelledby": "punch-h" }, el("h2", { id: "punch-h", text: t("punch.title") }), punch));
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
        list.appendChild(eventsTable(res.json.items, manager ? null : voidPunch, "events-table"));
      });
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
    if (!manager) api("GET", "/api/v1/people?limit=500").then(function (res) {
      if (!res.ok) return;
      res.json.items.forEach(function (p) {
        var label = p.name + " (" + p.employee_no + ")";
        person.appendChild(el("option", { value: p.id, text: label }));
        pPerson.appendChild(el("option", { value: p.id, text: label }));
      });
    });
    load();
  }

  /* ---- People: the roster, a person, enrolment from a photo ---------------------------------- */

  function drawPeople(main, hash) {
    var m = /^#\/people\/([0-9a-f-]{36})$/.exec(hash);
    if (m) { drawPerson(main, m[1]); return; }
    main.appendChild(el("h1", { text: t("people.title") }));
    if (state.session.user.role === "manager") { main.appendChild(msg("error", t("admin.forbidden"))); return; }
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
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = file.files[0];
      if (!f) return;
      result.textContent = "";
      api("POST", "/api/v1/people/" + id + "/faces", f, f.type || "application/octet-stream").then(function (res) {
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
    });
    enrolBox.appendChild(el("h2", { id: "enrol-h", text: t("person.enrol") }));
    enrolBox.appendChild(form);
    enrolBox.appendChild(result);
    main.appendChild(enrolBox);
  }

  /* ---- Cameras: status ------------------------------------------------------------------------ */

  function drawCameras(main) {
    main.appendChild(el("h1", { text: t("cameras.title") }));
    var list = el("div", {});
    main.appendChild(list);
    api("GET", "/api/v1/cameras").then(function (res) {
      if (!res.ok) { list.appendChild(msg("error", t("common.error", { detail: problemText(res) }))); return; }
      if (!res.json.items.length) { list.appendChild(el("p", { text: t("common.none") })); return; }
      var head = el("tr", {}, ["cameras.name", "cameras.role", "cameras.state", "cameras.fps", "cameras.last_frame", "cameras.last_error"]
        .map(function (k) { return el("th", { scope: "col", text: t(k) }); }));
      var rows = res.json.items.map(function (c) {
        return el("tr", {}, el("td", { text: c.name }), el("td", { text: c.role }), el("td", {}, el("span", { "class": "badge", text: c.state })),
          el("td", { text: typeof c.input_fps === "number" ? c.input_fps.toFixed(1) : "" }),
          el("td", { text: fmtTime(c.last_frame_time) }), el("td", { text: c.last_error || "" }));
      });
      list.appendChild(el("div", { "class": "table-wrap" }, el("table", { id: "cameras-table" }, el("thead", {}, head), el("tbody", {}, rows))));
    });
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
    var action = el("input", { type: "text", maxlength: "100" });
    var audit = el("div", {});
    var filter = el("form", { "class": "row" }, field("audit-action", t("admin.audit_action"), action), el("button", { type: "submit", text: t("common.search") }));
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
        (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
      api("GET", q).then(function (res) {
        if (!append) audit.textContent = "";
        var old = document.getElementById("audit-more");
        if (old) old.remove();
        if (!res.ok) { audit.appendChild(msg("error", t("common.error", { detail: problemText(res) }))); return; }
        var head = el("tr", {}, ["admin.audit_ts", "admin.audit_actor", "admin.audit_action", "admin.audit_target", "admin.audit_outcome"]
          .map(function (k) { return el("th", { scope: "col", text: t(k) }); }));
        var rows = res.json.items.map(function (a) {
          return el("tr", {}, el("td", { text: fmtTime(a.ts) }), el("td", { text: a.actor }), el("td", { text: a.action }),
            el("td", { text: [a.target_type, a.target_id].filter(Boolean).join(" ") }), el("td", { text: a.outcome }));
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
