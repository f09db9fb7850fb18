/* The attendance report engine (include/attendd/report.h): time zones read from TZif files (no global
 * TZ, so thread-safe), work-day windows around shifts and the day cut-off, per-day status and minutes. */
#include "attendd/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400
#define MIN_US 60000000LL
#define TZIF_MAX_BYTES (1 << 20) /* real zone files are a few KiB */

/* ---- calendar ------------------------------------------------------------------------------------- */

int64_t report_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void report_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
static int month_days(int y, int m)
{
    static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return md[m - 1] + (m == 2 && leap(y));
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool report_date_parse(const char *s, int64_t *days)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    int v[3] = {0, 0, 0};
    static const int pos[3][2] = {{0, 4}, {5, 2}, {8, 2}};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < pos[k][1]; i++) {
            char c = s[pos[k][0] + i];
            if (c < '0' || c > '9') return false;
            v[k] = v[k] * 10 + (c - '0');
        }
    if (v[0] < 1 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > month_days(v[0], v[1])) return false;
    *days = report_days_from_civil(v[0], v[1], v[2]);
    return true;
}

bool report_hhmm_parse(const char *s, int *min)
{
    if (!s || strlen(s) != 5 || s[2] != ':') return false;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9')) return false;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59) return false;
    *min = h * 60 + m;
    return true;
}

/* ---- TZif (RFC 8536) and the POSIX TZ footer -------------------------------------------------------- */

struct tz_rule {            /* one POSIX TZ transition rule: Jn, n or Mm.w.d, at time secs local */
    char form;              /* 'J', 'D' (zero-based day n) or 'M' */
    int a, b, c;            /* J/D: day; M: month, week, weekday */
    int32_t time;           /* seconds after local midnight (may be negative or > 24 h) */
};

struct report_tz {
    size_t n;               /* transitions */
    int64_t *at;            /* transition instants, ascending */
    int32_t *off_after;     /* offset in force from at[i] */
    int32_t off_first;      /* before the first transition */
    bool has_footer;        /* times after the last transition follow the rule below */
    int32_t std_off, dst_off; /* east positive */
    bool has_dst;
    struct tz_rule start, end;
};

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

/* [+-]hh[:mm[:ss]] -> seconds; *p advanced. */
static bool posix_hms(const char **p, int32_t *out)
{
    const char *s = *p;
    int sign = 1;
    if (*s == '+' || *s == '-') sign = *s++ == '-' ? -1 : 1;
    int32_t v[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        if (k > 0) {
            if (*s != ':') break;
            s++;
        }
        if (*s < '0' || *s > '9') return false;
        int x = 0, nd = 0;
        while (*s >= '0' && *s <= '9' && nd < 3) x = x * 10 + (*s++ - '0'), nd++;
        v[k] = x;
    }
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    *p = s;
    return true;
}

static bool posix_name(const char **p)
{
    const char *s = *p;
    if (*s == '<') {
        while (*s && *s != '>') s++;
        if (*s != '>') return false;
        s++;
    } else {
        const char *b = s;
        while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) s++;
        if (s - b < 3) return false;
    }
    *p = s;
    return true;
}

static bool posix_rule(const char **p, struct tz_rule *r)
{
    const char *s = *p;
    char *e;
    r->time = 7200;
    if (*s == 'M') {
        r->form = 'M';
        r->a = (int)strtol(s + 1, &e, 10);
        if (*e != '.') return false;
        r->b = (int)strtol(e + 1, &e, 10);
        if (*e != '.') return false;
        r->c = (int)strtol(e + 1, &e, 10);
        if (r->a < 1 || r->a > 12 || r->b < 1 || r->b > 5 || r->c < 0 || r->c > 6) return false;
    } else if (*s == 'J') {
        r->form = 'J';
        r->a = (int)strtol(s + 1, &e, 10);
        if (r->a < 1 || r->a > 365) return false;
    } else if (*s >= '0' && *s <= '9') {
        r->form = 'D';
        r->a = (int)strtol(s, &e, 10);
        if (r->a > 365) return false;
    } else {
        return false;
    }
    s = e;
    if (*s == '/') {
        s++;
        if (!posix_hms(&s, &r->time)) return false;
    }
    *p = s;
    return true;
}

static bool parse_footer(report_tz *tz, const char *s)
{
    int32_t v;
    if (!posix_name(&s) || !posix_hms(&s, &v)) return false;
    tz->std_off = -v;
    if (*s == '\0') return true;
    if (!posix_name(&s)) return false;
    tz->has_dst = true;
    tz->dst_off = tz->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (!posix_hms(&s, &v)) return false;
        tz->dst_off = -v;
    }
    if (*s == '\0') { /* POSIX default rules (US) */
        tz->start = (struct tz_rule){'M', 3, 2, 0, 7200};
        tz->end = (struct tz_rule){'M', 11, 1, 0, 7200};
        return true;
    }
    if (*s++ != ',' || !posix_rule(&s, &tz->start) || *s++ != ',' || !posix_rule(&s, &tz->end)) return false;
    return *s == '\0';
}

/* Local-time instant (seconds, as if UTC) of rule r in year y, before adding r->time. */
static int64_t rule_day(const struct tz_rule *r, int y)
{
    int64_t jan1 = report_days_from_civil(y, 1, 1);
    if (r->form == 'J') return jan1 + r->a - 1 + (leap(y) && r->a >= 60);
    if (r->form == 'D') return jan1 + r->a;
    int64_t first = report_days_from_civil(y, r->a, 1);
    int wday = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    int64_t d = first + (r->c - wday + 7) % 7 + (int64_t)(r->b - 1) * 7;
    while (d - first >= month_days(y, r->a)) d -= 7;
    return d;
}

static int32_t footer_offset(const report_tz *tz, int64_t t)
{
    if (!tz->has_dst) return tz->std_off;
    int y, m, d;
    report_civil_from_days(floor_div(t + tz->std_off, DAY_S), &y, &m, &d);
    int64_t start = rule_day(&tz->start, y) * DAY_S + tz->start.time - tz->std_off;
    int64_t end = rule_day(&tz->end, y) * DAY_S + tz->end.time - tz->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? tz->dst_off : tz->std_off;
}

int32_t report_tz_offset(const report_tz *tz, int64_t t)
{
    if (tz->n == 0) return tz->has_footer ? footer_offset(tz, t) : tz->off_first;
    if (t < tz->at[0]) return tz->off_first;
    if (t >= tz->at[tz->n - 1] && tz->has_footer) return footer_offset(tz, t);
    size_t lo = 0, hi = tz->n; /* last i with at[i] <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= t) lo = mid;
        else hi = mid;
    }
    return tz->off_after[lo];
}

int64_t report_tz_to_utc(const report_tz *tz, int64_t local)
{
    int32_t oa = report_tz_offset(tz, local - DAY_S), ob = report_tz_offset(tz, local + DAY_S);
    bool va = report_tz_offset(tz, local - oa) == oa, vb = report_tz_offset(tz, local - ob) == ob;
    if (va && vb) return local - (oa > ob ? oa : ob); /* repeated hour: the first occurrence */
    if (va) return local - oa;
    if (vb) return local - ob;
    return local - oa; /* skipped hour: read with the offset before the gap */
}

static att_err parse_tzif(report_tz *tz, const unsigned char *b, size_t len)
{
    if (len < 44 || memcmp(b, "TZif", 4) != 0) return ATT_E_INVALID;
    uint32_t cnt[6];
    for (int i = 0; i < 6; i++) cnt[i] = be32(b + 20 + 4 * i);
    /* isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt */
    size_t v1 = (size_t)cnt[3] * 5 + (size_t)cnt[4] * 6 + cnt[5] + (size_t)cnt[2] * 8 + cnt[1] + cnt[0];
    size_t tsz = 4, lsz = 8;
    const unsigned char *h = b;
    if (b[4] >= '2') {
        if (44 + v1 + 44 > len) return ATT_E_INVALID;
        h = b + 44 + v1;
        if (memcmp(h, "TZif", 4) != 0) return ATT_E_INVALID;
        for (int i = 0; i < 6; i++) cnt[i] = be32(h + 20 + 4 * i);
        tsz = 8;
        lsz = 12;
    }
    size_t timecnt = cnt[3], typecnt = cnt[4];
    size_t data = timecnt * tsz + timecnt + typecnt * 6 + cnt[5] + (size_t)cnt[2] * lsz + cnt[1] + cnt[0];
    const unsigned char *p = h + 44, *end = b + len;
    if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || (size_t)(end - p) < data) return ATT_E_INVALID;
    const unsigned char *idx = p + timecnt * tsz, *types = idx + timecnt;
    tz->at = calloc(timecnt ? timecnt : 1, sizeof *tz->at);
    tz->off_after = calloc(timecnt ? timecnt : 1, sizeof *tz->off_after);
    if (!tz->at || !tz->off_after) return ATT_E_NOMEM;
    for (size_t i = 0; i < timecnt; i++) {
        tz->at[i] = tsz == 8 ? be64(p + 8 * i) : (int64_t)(int32_t)be32(p + 4 * i);
        if (idx[i] >= typecnt || (i > 0 && tz->at[i] <= tz->at[i - 1])) return ATT_E_INVALID;
        tz->off_after[i] = (int32_t)be32(types + 6 * idx[i]);
    }
    tz->n = timecnt;
    tz->off_first = (int32_t)be32(types); /* type 0 (RFC 8536 §3.2) */
    if (tsz == 8) {
        const unsigned char *f = p + data;
        if (f < end && *f == '\n') {
            const unsigned char *nl = memchr(f + 1, '\n', (size_t)(end - f - 1));
            if (nl && nl > f + 1 && nl - f < 128) {
                char foot[128];
                memcpy(foot, f + 1, (size_t)(nl - f - 1));
                foot[nl - f - 1] = '\0';
                if (!parse_footer(tz, foot)) return ATT_E_INVALID;
                tz->has_footer = true;
            }
        }
    }
    return ATT_OK;
}

static bool zone_name_ok(const char *n)
{
    if (!n || !*n || strlen(n) > 128 || n[0] == '/' || strstr(n, "..")) return false;
    for (const char *c = n; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '/' ||
              *c == '_' || *c == '+' || *c == '-'))
            return false;
    return true;
}

void report_tz_free(report_tz *tz)
{
    if (!tz) return;
    free(tz->at);
    free(tz->off_after);
    free(tz);
}

att_err report_tz_load(const char *name, const char *dir, report_tz **out)
{
    *out = NULL;
    if (!zone_name_ok(name)) return ATT_E_INVALID;
    if (!dir) dir = getenv("TZDIR");
    if (!dir || !*dir) dir = "/usr/share/zoneinfo";
    char path[1024];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return ATT_E_INVALID;
    FILE *f = fopen(path, "rb");
    if (!f && (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)) {
        /* without the tz database UTC still works: no transitions, offset 0 */
        report_tz *tz = calloc(1, sizeof *tz);
        if (!tz) return ATT_E_NOMEM;
        *out = tz;
        return ATT_OK;
    }
    if (!f) return ATT_E_NOT_FOUND;
    unsigned char *buf = malloc(TZIF_MAX_BYTES);
    size_t len = buf ? fread(buf, 1, TZIF_MAX_BYTES, f) : 0;
    fclose(f);
    report_tz *tz = calloc(1, sizeof *tz);
    att_err e = !buf || !tz ? ATT_E_NOMEM : len == TZIF_MAX_BYTES ? ATT_E_INVALID : parse_tzif(tz, buf, len);
    free(buf);
    if (e != ATT_OK) {
        report_tz_free(tz);
        return e;
    }
    *out = tz;
    return ATT_OK;
}

void report_format_time(const report_tz *tz, int64_t utc_us, char out[32])
{
    int64_t s = floor_div(utc_us, 1000000);
    int32_t off = report_tz_offset(tz, s);
    int64_t local = s + off, days = floor_div(local, DAY_S), sod = local - days * DAY_S;
    int y, m, d;
    report_civil_from_days(days, &y, &m, &d);
    int32_t ao = off < 0 ? -off : off;
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
             (int)(sod % 60), off < 0 ? '-' : '+', (int)(ao / 3600), (int)(ao / 60 % 60));
}

/* ---- the engine -------------------------------------------------------------------------------------- */

const char *report_status_name(enum report_status s)
{
    switch (s) {
    case REPORT_OFF: return "off";
    case REPORT_PRESENT: return "present";
    case REPORT_LATE: return "late";
    case REPORT_EARLY_LEAVE: return "early_leave";
    case REPORT_ABSENT: return "absent";
    case REPORT_MISSING_OUT: return "missing_out";
    }
    return "?";
}

/* µs instant of local wall time `min` minutes after midnight of day `day` */
static int64_t local_us(const report_tz *tz, int64_t day, int64_t min)
{
    return report_tz_to_utc(tz, day * DAY_S + min * 60) * 1000000;
}

static int cmp_punch(const void *a, const void *b)
{
    const struct report_punch *x = a, *y = b;
    if (x->ts_us != y->ts_us) return x->ts_us < y->ts_us ? -1 : 1;
    return (int)x->kind - (int)y->kind; /* same instant: in before out */
}

static bool shift_ok(const struct report_shift *s)
{
    return s->start_min >= 0 && s->start_min < 1440 && s->end_min >= 0 && s->end_min < 1440 &&
           s->grace_late_min >= 0 && s->grace_late_min <= 1440 && s->grace_early_min >= 0 &&
           s->grace_early_min <= 1440 && s->break_min >= 0 && s->break_min <= 1440;
}

void report_punch_window(const report_tz *tz, int64_t first_day, int64_t last_day, int64_t *from_us, int64_t *to_us)
{
    *from_us = local_us(tz, first_day - 2, 0);
    *to_us = local_us(tz, last_day + 3, 0);
}

static void one_day(const struct report_shift *sh, int64_t s, int64_t e, const struct report_punch *p, size_t n,
                    struct report_day *d)
{
    int64_t worked = 0, open = 0;
    bool is_open = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i].kind == REPORT_IN) {
            if (!d->has_in) d->first_in_us = p[i].ts_us;
            d->has_in = true;
            if (!is_open) open = p[i].ts_us, is_open = true; /* a repeated clock-in keeps the first */
        } else {
            d->has_out = true;
            d->last_out_us = p[i].ts_us;
            if (is_open) worked += p[i].ts_us - open, is_open = false; /* a lone clock-out pairs with nothing */
        }
    }
    int64_t wmin = worked / MIN_US;
    if (sh) wmin = wmin > sh->break_min ? wmin - sh->break_min : 0;
    d->worked_min = wmin;
    if (!sh) {
        d->status = !d->has_in ? REPORT_OFF : is_open ? REPORT_MISSING_OUT : REPORT_PRESENT;
        d->overtime_min = is_open ? 0 : wmin;
        return;
    }
    if (!d->has_in) {
        d->status = REPORT_ABSENT;
        return;
    }
    int64_t late = d->first_in_us - s;
    if (late > (int64_t)sh->grace_late_min * MIN_US) d->late_min = late / MIN_US;
    if (is_open) {
        d->status = REPORT_MISSING_OUT;
        return;
    }
    int64_t early = d->has_out ? e - d->last_out_us : 0;
    if (early > (int64_t)sh->grace_early_min * MIN_US) d->early_min = early / MIN_US;
    int64_t net = (e - s) / MIN_US - sh->break_min;
    if (net < 0) net = 0;
    d->overtime_min = wmin > net ? wmin - net : 0;
    d->status = d->late_min > 0 ? REPORT_LATE : d->early_min > 0 ? REPORT_EARLY_LEAVE : REPORT_PRESENT;
}

att_err report_compute(const struct report_input *in, struct report_day *out)
{
    if (!in || !in->tz || !in->shifts || in->cutoff_min < 0 || in->cutoff_min >= 1440 ||
        (in->npunches && !in->punches))
        return ATT_E_INVALID;
    size_t nd = in->ndays + 2; /* index k is day first_day - 1 + k */
    for (size_t k = 0; k < nd; k++)
        if (in->shifts[k] && !shift_ok(in->shifts[k])) return ATT_E_INVALID;
    int64_t *s = calloc(nd, sizeof *s), *e = calloc(nd, sizeof *e), *bound = calloc(nd, sizeof *bound);
    if (!s || !e || !bound) {
        free(s), free(e), free(bound);
        return ATT_E_NOMEM;
    }
    for (size_t k = 0; k < nd; k++) {
        const struct report_shift *sh = in->shifts[k];
        if (!sh) continue;
        int64_t day = in->first_day - 1 + (int64_t)k;
        s[k] = local_us(in->tz, day, sh->start_min);
        e[k] = local_us(in->tz, sh->end_min <= sh->start_min ? day + 1 : day, sh->end_min);
    }
    /* bound[k]: where work day k ends and k+1 begins (docs/reports.md, "Work days") */
    const int64_t slack = (int64_t)REPORT_SLACK_MIN * MIN_US;
    for (size_t k = 0; k + 1 < nd; k++) {
        int64_t day = in->first_day - 1 + (int64_t)k;
        int64_t c = local_us(in->tz, day + 1, in->cutoff_min);
        bool a = in->shifts[k] != NULL, b = in->shifts[k + 1] != NULL;
        if ((!a || e[k] <= c) && (!b || c <= s[k + 1])) bound[k] = c;
        else if (a && b) bound[k] = e[k] + (s[k + 1] - e[k]) / 2;
        else if (a) bound[k] = e[k] + slack;
        else bound[k] = s[k + 1] - slack;
    }
    if (in->npunches) qsort(in->punches, in->npunches, sizeof *in->punches, cmp_punch);
    size_t pi = 0;
    for (size_t i = 0; i < in->ndays; i++) {
        size_t k = i + 1;
        int64_t lo = bound[k - 1], hi = bound[k];
        while (pi < in->npunches && in->punches[pi].ts_us < lo) pi++;
        size_t pe = pi;
        while (pe < in->npunches && in->punches[pe].ts_us < hi) pe++;
        struct report_day *d = &out[i];
        *d = (struct report_day){.day = in->first_day + (int64_t)i};
        const struct report_shift *sh = in->shifts[k];
        if (sh) {
            d->scheduled = true;
            d->shift_index = in->shift_index ? in->shift_index[k] : 0;
            d->sched_start_us = s[k];
            d->sched_end_us = e[k];
        }
        one_day(sh, s[k], e[k], in->punches + pi, pe - pi, d);
        pi = pe;
    }
    free(s), free(e), free(bound);
    return ATT_OK;
}
