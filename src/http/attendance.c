/* GET /api/v1/attendance (hr, admin): per person per work day shift, punches, worked/late/early/overtime
 * minutes and status (src/attendance/report.c) as JSON or streamed RFC 4180 CSV; every read is audited. */
#include "csv.h"
#include "negotiate.h"
#include "http_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/db.h"
#include "attendd/json.h"
#include "attendd/report.h"
#include "attendd/store_shifts.h"
#include "attendd/time.h"
#include "attendd/tz.h"

/* ---- the configured zone, loaded once per name and kept (zones are immutable and tiny) ---------------- */

struct zone_cache {
    struct zone_cache *next;
    char name[64];
    att_tz *tz;
};
static pthread_mutex_t zone_mu = PTHREAD_MUTEX_INITIALIZER;
static struct zone_cache *zones; /* never freed: a handful at most (one per configured name) */

att_err http_zone_get(const char *name, const att_tz **out)
{
    att_err e = ATT_OK;
    pthread_mutex_lock(&zone_mu);
    struct zone_cache *z = zones;
    while (z && strcmp(z->name, name) != 0) z = z->next;
    if (!z) {
        z = calloc(1, sizeof *z);
        if (!z) e = ATT_E_NOMEM;
        else if (snprintf(z->name, sizeof z->name, "%s", name) >= (int)sizeof z->name ||
                 (e = att_tz_load(name, NULL, &z->tz)) != ATT_OK) {
            free(z);
            z = NULL;
            if (e == ATT_OK) e = ATT_E_CONFIG;
        } else {
            z->next = zones;
            zones = z;
        }
    }
    if (z) *out = z->tz;
    pthread_mutex_unlock(&zone_mu);
    return e;
}

/* ---- one report row ---------------------------------------------------------------------------------- */

#define NCOLS 15
static const char *const columns[NCOLS] = {
    "person_id",           "employee_no",      "name",     "department", "date",           "shift",
    "scheduled_start",     "scheduled_end",    "first_in", "last_out",   "worked_minutes", "late_minutes",
    "early_leave_minutes", "overtime_minutes", "status"};

struct row_text {
    char date[ATT_DATE_TEXT], start[ATT_TZ_TEXT], end[ATT_TZ_TEXT], in[ATT_TZ_TEXT], out[ATT_TZ_TEXT], worked[24],
        late[24], early[24], over[24];
    char from[ATT_TZ_TEXT], until[ATT_TZ_TEXT]; /* the work day's boundaries: which punches are its own */
};

static void row_text(const att_tz *tz, const struct report_day *d, struct row_text *t)
{
    (void)att_time_date_format(d->day, t->date); /* report days lie within years 1..9999 */
    t->start[0] = t->end[0] = t->in[0] = t->out[0] = '\0';
    if (d->scheduled) {
        att_tz_format(tz, d->sched_start_us, t->start);
        att_tz_format(tz, d->sched_end_us, t->end);
    }
    att_tz_format(tz, d->from_us, t->from);
    att_tz_format(tz, d->until_us, t->until);
    if (d->has_in) att_tz_format(tz, d->first_in_us, t->in);
    if (d->has_out) att_tz_format(tz, d->last_out_us, t->out);
    snprintf(t->worked, sizeof t->worked, "%lld", (long long)d->worked_min);
    snprintf(t->late, sizeof t->late, "%lld", (long long)d->late_min);
    snprintf(t->early, sizeof t->early, "%lld", (long long)d->early_min);
    snprintf(t->over, sizeof t->over, "%lld", (long long)d->overtime_min);
}

static json_t *str_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

/* Append o's compact text (stealing o) less its last `drop` bytes (1: leave an object open). */
static void append_json(struct text_buf *b, json_t *o, size_t drop)
{
    char *txt = o ? att_json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!txt) {
        b->oom = true;
        return;
    }
    text_buf_add(b, txt, strlen(txt) - drop);
    free(txt);
}

/* One report row as JSON, through jansson like every other body; empty cells are null. */
static void row_json(struct text_buf *b, const struct rep_person *p, const struct rep_schedule *s,
                     const struct row_text *t, const struct report_day *d)
{
    json_t *shift =
        s ? json_pack("{s:o, s:o}", "id", str_or_null(s->shift_id), "name", str_or_null(s->shift_name)) : json_null();
    json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:s}",
                          "person_id", str_or_null(p->id), "employee_no", str_or_null(p->employee_no), "name",
                          str_or_null(p->name), "department", str_or_null(p->department), "date", str_or_null(t->date),
                          "day_from", t->from, "day_until", t->until, "shift", shift, "scheduled_start",
                          str_or_null(t->start), "scheduled_end", str_or_null(t->end), "first_in", str_or_null(t->in),
                          "last_out", str_or_null(t->out), "worked_minutes", (json_int_t)d->worked_min, "late_minutes",
                          (json_int_t)d->late_min, "early_leave_minutes", (json_int_t)d->early_min, "overtime_minutes",
                          (json_int_t)d->overtime_min, "status", report_status_name(d->status));
    append_json(b, o, 0);
}

static void row_csv(struct text_buf *b, const struct rep_person *p, const struct rep_schedule *s,
                    const struct row_text *t, const struct report_day *d)
{
    const char *f[NCOLS] = {
        p->id,  p->employee_no, p->name, p->department, t->date, s ? s->shift_name : "",       t->start, t->end, t->in,
        t->out, t->worked,      t->late, t->early,      t->over, report_status_name(d->status)};
    for (int i = 0; i < NCOLS; i++) csv_field(b, f[i], i == NCOLS - 1);
}

/* ---- assembling --------------------------------------------------------------------------------------- */

/* The schedule for person p on day: their own beats their department's. */
static const struct rep_schedule *schedule_for(const struct rep_schedule *s, size_t n, const struct rep_person *p,
                                               int64_t day)
{
    const struct rep_schedule *dept = NULL;
    for (size_t i = 0; i < n; i++) {
        if (day < s[i].from_day || day > s[i].to_day) continue;
        if (s[i].person_id[0] && strcmp(s[i].person_id, p->id) == 0) return &s[i];
        if (!s[i].person_id[0] && s[i].department && p->department[0] && strcmp(s[i].department, p->department) == 0)
            dept = &s[i];
    }
    return dept;
}

/* First punch of person id in the array sorted by person id (uuid order = lowercase hex text order). */
static size_t punches_from(const struct rep_punch *a, size_t n, const char *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(a[mid].person_id, id) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The query as typed values; the texts point into the query string. */
struct report_query {
    const char *from_s, *to_s, *department, *person_id; /* as given (department, person_id: or NULL) */
    int64_t from, to;                                   /* days since 1970-01-01, to inclusive */
    bool has_person;
    att_uuid person;
    bool csv;
};

/* Check the query string; writes 400/422 naming the parameter. */
static att_err read_query(struct http_request *req, struct http_response *resp, struct report_query *q)
{
    int format = -1;
    const struct http_field spec[] = {
        {.name = "from",
         .type = HV_DATE,
         .required = true,
         .max_len = 10,
         .rule = "is required: a date YYYY-MM-DD",
         .days = &q->from,
         .text = &q->from_s},
        {.name = "to",
         .type = HV_DATE,
         .required = true,
         .max_len = 10,
         .rule = "is required: a date YYYY-MM-DD",
         .days = &q->to,
         .text = &q->to_s},
        {.name = "department",
         .type = HV_TEXT,
         .min_len = 1,
         .max_len = SCHED_DEPT_MAX - 1,
         .rule = "must not be empty",
         .text = &q->department},
        HTTP_UUID_PARAM("person_id", &q->person, &q->has_person, &q->person_id),
        HTTP_FORMAT_FIELD(&format),
        {NULL},
    };
    att_err e = http_query_read(req, resp, spec, HTTP_QUERY_CLOSED);
    if (e == ATT_OK) e = http_negotiate_csv(req, resp, format, &q->csv);
    if (e != ATT_OK) return e;
    if (q->to < q->from)
        return http_problem(resp, ATT_E_INVALID, "to", "query parameter 'to' must not be before 'from'");
    int max = req->deps->cfg->report_max_days;
    if (q->to - q->from + 1 > max)
        return http_problem(resp, ATT_E_INVALID, "to",
                            "query parameter 'to': the range is over %d days (report_max_days)", max);
    return ATT_OK;
}

struct report_data {
    struct rep_person *people;
    size_t npeople;
    struct rep_schedule *sched;
    size_t nsched;
    struct rep_punch *punches;
    size_t npunches;
};

static void data_free(struct report_data *d)
{
    if (d->people) sodium_memzero(d->people, d->npeople * sizeof *d->people); /* names */
    free(d->people);
    free(d->sched);
    free(d->punches);
}

/* Everything needed to produce the rows, person by person: owned by the handler for JSON, by the
 * libmicrohttpd callback response for CSV (the database is not needed any more once loaded). */
struct report_run {
    struct http_live live; /* registered under the token: revoking it cuts the report */
    const att_tz *tz;      /* from the zone cache: never freed */
    int cutoff;
    int64_t from;
    size_t ndays;
    struct report_data d;
    const struct report_shift **shifts; /* ndays + 2 scratch entries */
    const struct rep_schedule **used;
    struct report_day *days; /* ndays */
    struct report_punch *pp; /* scratch for one person's punches */
    bool json;               /* JSON text, else CSV */
    bool closed;             /* JSON: the closing "]}" is produced */
    size_t emitted;          /* rows produced so far */
    size_t next;             /* next person to produce */
    struct text_buf out;     /* text produced and not yet sent */
    size_t out_off;
};

static void run_free(void *cls)
{
    struct report_run *r = cls;
    if (!r) return;
    http_live_remove(&r->live);
    data_free(&r->d);
    free(r->shifts);
    free(r->used);
    free(r->days);
    free(r->pp);
    text_buf_free(&r->out);
    free(r);
}

/* Rows of person i, appended to r->out as JSON array elements or CSV records. */
static att_err person_rows(struct report_run *r, size_t i)
{
    const struct rep_person *p = &r->d.people[i];
    size_t nd = r->ndays;
    for (size_t k = 0; k < nd + 2; k++) {
        r->used[k] = schedule_for(r->d.sched, r->d.nsched, p, r->from - 1 + (int64_t)k);
        r->shifts[k] = r->used[k] ? &r->used[k]->shift : NULL;
    }
    size_t first = punches_from(r->d.punches, r->d.npunches, p->id), last = first;
    while (last < r->d.npunches && strcmp(r->d.punches[last].person_id, p->id) == 0) last++;
    for (size_t k = first; k < last; k++) r->pp[k - first] = r->d.punches[k].p;
    struct report_input in = {.tz = r->tz,
                              .cutoff_min = r->cutoff,
                              .first_day = r->from,
                              .ndays = nd,
                              .shifts = r->shifts,
                              .punches = r->pp,
                              .npunches = last - first};
    att_err e = report_compute(&in, r->days);
    for (size_t k = 0; e == ATT_OK && k < nd; k++) {
        struct row_text t;
        row_text(r->tz, &r->days[k], &t);
        const struct rep_schedule *s = r->days[k].scheduled ? r->used[k + 1] : NULL;
        if (r->json) {
            if (r->emitted > 0) text_buf_add(&r->out, ",", 1);
            row_json(&r->out, p, s, &t, &r->days[k]);
        } else {
            row_csv(&r->out, p, s, &t, &r->days[k]);
        }
        r->emitted++;
        if (r->out.oom) e = ATT_E_NOMEM;
    }
    return e;
}

/* libmicrohttpd pulls the body: each time the produced text is sent, the next person's rows are made. */
static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct report_run *r = cls;
    if (http_live_revoked(&r->live)) return MHD_CONTENT_READER_END_WITH_ERROR; /* its token was revoked */
    while (r->out_off == r->out.len) {
        r->out.len = r->out_off = 0;
        if (r->next < r->d.npeople) {
            if (person_rows(r, r->next++) != ATT_OK) return MHD_CONTENT_READER_END_WITH_ERROR;
        } else if (r->json && !r->closed) {
            text_buf_add(&r->out, "]}", 2);
            r->closed = true;
            if (r->out.oom) return MHD_CONTENT_READER_END_WITH_ERROR;
        } else {
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
    }
    size_t n = r->out.len - r->out_off < max ? r->out.len - r->out_off : max;
    memcpy(buf, r->out.p + r->out_off, n);
    r->out_off += n;
    return (ssize_t)n;
}

static att_err run_new(const att_tz *tz, int cutoff, const struct report_query *q, struct report_data *d,
                       struct report_run **out)
{
    struct report_run *r = calloc(1, sizeof *r);
    if (!r) return ATT_E_NOMEM;
    r->tz = tz;
    r->cutoff = cutoff;
    r->from = q->from;
    r->ndays = (size_t)(q->to - q->from + 1);
    r->d = *d; /* ownership moves here */
    *d = (struct report_data){0};
    r->shifts = calloc(r->ndays + 2, sizeof *r->shifts);
    r->used = calloc(r->ndays + 2, sizeof *r->used);
    r->days = calloc(r->ndays, sizeof *r->days);
    r->pp = calloc(r->d.npunches ? r->d.npunches : 1, sizeof *r->pp);
    if (!r->shifts || !r->used || !r->days || !r->pp) {
        run_free(r);
        return ATT_E_NOMEM;
    }
    *out = r;
    return ATT_OK;
}

att_err http_attendance_get(struct http_request *req, struct http_response *resp)
{
    struct report_query q = {0};
    att_err e = read_query(req, resp, &q);
    if (e != ATT_OK) return e;
    const struct att_config *cfg = req->deps->cfg;
    const att_tz *tz;
    int cutoff;
    if (!att_time_hhmm_parse(cfg->day_cutoff, &cutoff) || http_zone_get(cfg->timezone, &tz) != ATT_OK)
        return http_problem(resp, ATT_E_CONFIG, NULL, "the configured timezone or day_cutoff is not usable");

    /* conditional GET: dashboards poll the same report; answered from memory, before the database */
    struct http_response tag = {0};
    bool not_modified;
    if ((e = http_etag_check(req, q.csv ? "csv" : "json", &tag, &not_modified)) != ATT_OK || not_modified) {
        http_response_clear(resp);
        *resp = tag;
        return e;
    }

    PGconn *c;
    if ((e = http_req_db(req, resp, &c)) != ATT_OK) {
        http_response_clear(&tag);
        return e;
    }
    if (q.department) {
        bool known = false; /* need to know: a department outside the principal's is answered as unknown */
        if ((e = store_report_department_known(c, q.department, &known)) != ATT_OK)
            return http_problem(resp, e, NULL, "the report could not be read");
        if (!known || !http_sees_department(req, q.department))
            return http_problem(resp, ATT_E_INVALID, "department",
                                "query parameter 'department' names no department of any person or schedule");
    }
    struct report_data d = {0};
    int64_t wfrom, wto;
    report_punch_window(tz, q.from, q.to, &wfrom, &wto);
    e = store_report_people(c, q.department, q.has_person ? &q.person : NULL, &d.people, &d.npeople);
    size_t kept = 0; /* need to know: only the principal's people (their punches are never looked up) */
    for (size_t i = 0; e == ATT_OK && i < d.npeople; i++)
        if (http_sees_department(req, d.people[i].department)) d.people[kept++] = d.people[i];
    if (e == ATT_OK) d.npeople = kept;
    if (e == ATT_OK && q.has_person && d.npeople == 0) {
        data_free(&d);
        return http_problem(resp, ATT_E_INVALID, "person_id", "query parameter 'person_id' names no person");
    }
    if (e == ATT_OK) e = store_report_schedules(c, q.from - 1, q.to + 1, &d.sched, &d.nsched);
    if (e == ATT_OK)
        e = store_report_punches(c, wfrom, wto, q.department, q.has_person ? &q.person : NULL, &d.punches, &d.npunches);

    struct report_run *run = NULL;
    size_t rows = 0;
    if (e == ATT_OK) e = run_new(tz, cutoff, &q, &d, &run);
    data_free(&d);
    if (e == ATT_OK) {
        rows = run->d.npeople * run->ndays;
        run->json = !q.csv;
        if (q.csv) { /* the header now; the rows as libmicrohttpd asks for them */
            for (int i = 0; i < NCOLS; i++) csv_field(&run->out, columns[i], i == NCOLS - 1);
        } else {
            /* the members, left open: the items are streamed after them */
            append_json(&run->out,
                        json_pack("{s:o, s:o, s:o, s:o}", "from", str_or_null(q.from_s), "to", str_or_null(q.to_s),
                                  "timezone", str_or_null(cfg->timezone), "day_cutoff", str_or_null(cfg->day_cutoff)),
                        1);
            text_buf_add(&run->out, ",\"items\":[", 10);
        }
        if (run->out.oom) e = ATT_E_NOMEM;
    }

    /* Audit: who read whose attendance, for which dates (ids and counts, no names). */
    json_t *detail = json_pack("{s:s, s:s, s:o, s:o, s:s, s:I}", "from", q.from_s, "to", q.to_s, "department",
                               str_or_null(q.department), "person_id", str_or_null(q.person_id), "format",
                               q.csv ? "csv" : "json", "rows", (json_int_t)rows);
    char *detail_txt = att_json_dumps(detail, JSON_COMPACT);
    json_decref(detail);
    const char *ttype = q.person_id ? "person" : NULL;
    if (e != ATT_OK) {
        (void)http_audit(req, "attendance.read", ttype, q.person_id, att_err_code(e), detail_txt);
        free(detail_txt);
        run_free(run);
        return http_problem(resp, e, NULL, "the report could not be computed");
    }
    att_err ae = detail_txt ? http_audit(req, "attendance.read", ttype, q.person_id, "ok", detail_txt) : ATT_E_NOMEM;
    free(detail_txt);
    if (ae != ATT_OK) { /* fail closed: no unaudited read of personal data */
        run_free(run);
        return http_problem(resp, ae == ATT_E_DB ? ATT_E_DB : ATT_E_INTERNAL, NULL,
                            "the audit log could not be written");
    }
    /* Both formats are streamed: rows are computed person by person as libmicrohttpd sends them. */
    if (req->token) (void)http_live_add(&run->live, req->token); /* not registered: it cannot be revoked */
    resp->stream = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, reader, run, run_free);
    if (!resp->stream) {
        run_free(run);
        return http_problem(resp, ATT_E_NOMEM, NULL, NULL);
    }
    resp->status = MHD_HTTP_OK;
    for (size_t i = 0; i < tag.nheaders; i++) http_header(resp, tag.headers[i].name, tag.headers[i].value);
    http_response_clear(&tag);
    if (!q.csv) {
        resp->content_type = "application/json";
        return ATT_OK;
    }
    char disp[96];
    snprintf(disp, sizeof disp, "attachment; filename=\"attendance-%s-%s.csv\"", q.from_s, q.to_s);
    resp->content_type = "text/csv; charset=utf-8";
    return http_header(resp, "Content-Disposition", disp);
}
