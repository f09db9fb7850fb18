/* Time zones (include/attendd/tz.h): TZif files (RFC 8536) with their POSIX TZ footer, read once per
 * zone into an immutable table, so local time needs no global TZ and is thread-safe. */
#include "attendd/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/time.h"

#define TZIF_MAX_BYTES (1 << 20) /* real zone files are a few KiB */

/* ---- TZif (RFC 8536) and the POSIX TZ footer -------------------------------------------------------- */

struct tz_rule {  /* one POSIX TZ transition rule: Jn, n or Mm.w.d, at time secs local */
    char form;    /* 'J', 'D' (zero-based day n) or 'M' */
    int a, b, c;  /* J/D: day; M: month, week, weekday */
    int32_t time; /* seconds after local midnight (may be negative or > 24 h) */
};

struct att_tz {
    size_t n;                 /* transitions */
    int64_t *at;              /* transition instants, ascending */
    int32_t *off_after;       /* offset in force from at[i] */
    int32_t off_first;        /* before the first transition */
    bool has_footer;          /* times after the last transition follow the rule below */
    int32_t std_off, dst_off; /* east positive */
    bool has_dst;
    struct tz_rule start, end;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
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

static bool parse_footer(att_tz *tz, const char *s)
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
    int64_t jan1 = att_time_days_from_civil(y, 1, 1);
    if (r->form == 'J') return jan1 + r->a - 1 + (att_time_leap_year(y) && r->a >= 60);
    if (r->form == 'D') return jan1 + r->a;
    int64_t first = att_time_days_from_civil(y, r->a, 1);
    int wday = att_time_weekday(first);
    int64_t d = first + (r->c - wday + 7) % 7 + (int64_t)(r->b - 1) * 7;
    while (d - first >= att_time_month_days(y, r->a)) d -= 7;
    return d;
}

static int32_t footer_offset(const att_tz *tz, int64_t t)
{
    if (!tz->has_dst) return tz->std_off;
    int y, m, d;
    att_time_civil_from_days(att_time_floor_div(t + tz->std_off, ATT_DAY_S), &y, &m, &d);
    int64_t start = rule_day(&tz->start, y) * ATT_DAY_S + tz->start.time - tz->std_off;
    int64_t end = rule_day(&tz->end, y) * ATT_DAY_S + tz->end.time - tz->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? tz->dst_off : tz->std_off;
}

int32_t att_tz_offset(const att_tz *tz, int64_t t)
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

int64_t att_tz_to_utc(const att_tz *tz, int64_t local)
{
    int32_t oa = att_tz_offset(tz, local - ATT_DAY_S), ob = att_tz_offset(tz, local + ATT_DAY_S);
    bool va = att_tz_offset(tz, local - oa) == oa, vb = att_tz_offset(tz, local - ob) == ob;
    if (va && vb) return local - (oa > ob ? oa : ob); /* repeated hour: the first occurrence */
    if (va) return local - oa;
    if (vb) return local - ob;
    return local - oa; /* skipped hour: read with the offset before the gap */
}

static att_err parse_tzif(att_tz *tz, const unsigned char *b, size_t len)
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

void att_tz_free(att_tz *tz)
{
    if (!tz) return;
    free(tz->at);
    free(tz->off_after);
    free(tz);
}

att_err att_tz_load(const char *name, const char *dir, att_tz **out)
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
        att_tz *tz = calloc(1, sizeof *tz);
        if (!tz) return ATT_E_NOMEM;
        *out = tz;
        return ATT_OK;
    }
    if (!f) return ATT_E_NOT_FOUND;
    unsigned char *buf = malloc(TZIF_MAX_BYTES);
    size_t len = buf ? fread(buf, 1, TZIF_MAX_BYTES, f) : 0;
    fclose(f);
    att_tz *tz = calloc(1, sizeof *tz);
    att_err e = !buf || !tz ? ATT_E_NOMEM : len == TZIF_MAX_BYTES ? ATT_E_INVALID : parse_tzif(tz, buf, len);
    free(buf);
    if (e != ATT_OK) {
        att_tz_free(tz);
        return e;
    }
    *out = tz;
    return ATT_OK;
}

void att_tz_format(const att_tz *tz, int64_t utc_us, char out[ATT_TZ_TEXT])
{
    int32_t off = att_tz_offset(tz, att_time_floor_div(utc_us, 1000000));
    (void)att_time_format(utc_us, off, ATT_TIME_OFFSET, out, ATT_TZ_TEXT); /* "" outside years 1..9999 */
}
