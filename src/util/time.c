/* Clocks, deadlines, RFC 3339 text and civil dates (include/attendd/time.h). */
#include "attendd/time.h"

#include <stdio.h>
#include <string.h>

/* ---- clocks and deadlines ------------------------------------------------------------------------ */

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts); /* cannot fail for these two clocks on Linux */
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t att_time_mono_us(void) { return clock_us(CLOCK_MONOTONIC); }
int64_t att_time_wall_us(void) { return clock_us(CLOCK_REALTIME); }
double att_time_mono_s(void) { return (double)att_time_mono_us() / 1e6; }

int64_t att_time_deadline(int64_t timeout_us) { return att_time_mono_us() + (timeout_us > 0 ? timeout_us : 0); }

int64_t att_time_remaining_us(int64_t deadline)
{
    int64_t left = deadline - att_time_mono_us();
    return left > 0 ? left : 0;
}

bool att_time_expired(int64_t deadline) { return att_time_mono_us() >= deadline; }

int att_time_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc != 0) return rc;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0) rc = pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
    return rc;
}

void att_time_cond_raise(pthread_mutex_t *mu, pthread_cond_t *cv, bool *flag)
{
    pthread_mutex_lock(mu);
    *flag = true;
    pthread_cond_broadcast(cv);
    pthread_mutex_unlock(mu);
}

struct timespec att_time_timespec(int64_t mono_us)
{
    int64_t s = att_time_floor_div(mono_us, 1000000);
    return (struct timespec){.tv_sec = (time_t)s, .tv_nsec = (long)(mono_us - s * 1000000) * 1000};
}

/* ---- civil dates ------------------------------------------------------------------------------------ */

bool att_time_leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int att_time_month_days(int y, int m)
{
    static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return md[m - 1] + (m == 2 && att_time_leap_year(y));
}

int64_t att_time_floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

/* Howard Hinnant's days_from_civil / civil_from_days: eras of 400 years, March-based years. */
int64_t att_time_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void att_time_civil_from_days(int64_t z, int *y, int *m, int *d)
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

int att_time_weekday(int64_t days) { return (int)(((days + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */ }

void att_time_add_days(int *y, int *m, int *d, int64_t n)
{
    att_time_civil_from_days(att_time_days_from_civil(*y, *m, *d) + n, y, m, d);
}

/* ---- text ------------------------------------------------------------------------------------------ */

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool date_ok(int y, int m, int d)
{
    return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= att_time_month_days(y, m);
}

bool att_time_parse(const char *s, int64_t *us)
{
    if (!s) return false;
    size_t len = strnlen(s, ATT_TIME_TEXT_MAX);
    if (len > ATT_TIME_TEXT_MAX - 1 || len < 20) return false;
    int Y, M, D, h, mi, sec;
    if (!digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-' || !digits(s + 8, 2, &D) ||
        (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) ||
        s[16] != ':' || !digits(s + 17, 2, &sec))
        return false;
    if (!date_ok(Y, M, D) || h > 23 || mi > 59 || sec > 60) return false;
    const char *p = s + 19;
    int64_t frac = 0;
    if (*p == '.') {
        int nd = 0;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (++nd > 9) return false;
            if (nd <= 6) frac = frac * 10 + (*p - '0');
            p++;
        }
        if (nd == 0) return false;
        for (int i = nd; i < 6; i++) frac *= 10;
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59) return false;
        offset = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p != '\0') return false;
    int64_t secs = att_time_days_from_civil(Y, M, D) * ATT_DAY_S + h * 3600 + mi * 60 + sec - offset;
    int64_t v = secs * 1000000 + frac;
    if (v < ATT_TIME_MIN_US || v > ATT_TIME_MAX_US) return false;
    *us = v;
    return true;
}

bool att_time_date_parse(const char *s, int64_t *days)
{
    int y, m, d;
    if (!s || strlen(s) != 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || !date_ok(y, m, d))
        return false;
    *days = att_time_days_from_civil(y, m, d);
    return true;
}

bool att_time_hhmm_parse(const char *s, int *min)
{
    int h, m;
    if (!s || strlen(s) != 5 || !digits(s, 2, &h) || s[2] != ':' || !digits(s + 3, 2, &m) || h > 23 || m > 59)
        return false;
    *min = h * 60 + m;
    return true;
}

bool att_time_format(int64_t us, int32_t offset_s, enum att_time_form form, char *out, size_t outlen)
{
    if (outlen) out[0] = '\0';
    if (form != ATT_TIME_OFFSET) offset_s = 0;
    int64_t s = att_time_floor_div(us, 1000000), frac = us - s * 1000000;
    int64_t local = s + offset_s, days = att_time_floor_div(local, ATT_DAY_S), sod = local - days * ATT_DAY_S;
    int y, m, d;
    att_time_civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999) return false;
    int hh = (int)(sod / 3600), mi = (int)(sod / 60 % 60), ss = (int)(sod % 60);
    int32_t ao = offset_s < 0 ? -offset_s : offset_s;
    char buf[96]; /* the years are bounded, but the compiler cannot know */
    int n = -1;
    switch (form) {
    case ATT_TIME_OFFSET:
        n = snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, m, d, hh, mi, ss,
                     offset_s < 0 ? '-' : '+', (int)(ao / 3600), (int)(ao / 60 % 60));
        break;
    case ATT_TIME_UTC_MS:
        n = snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, hh, mi, ss, (int)(frac / 1000));
        break;
    case ATT_TIME_SQL_UTC:
        n = snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", y, m, d, hh, mi, ss, (int)frac);
        break;
    case ATT_TIME_HTTP: {
        static const char wd[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        n = snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[att_time_weekday(days)], d, mon[m - 1],
                     y, hh, mi, ss);
        break;
    }
    }
    if (n < 0 || (size_t)n >= outlen) return false;
    memcpy(out, buf, (size_t)n + 1);
    return true;
}

bool att_time_date_format(int64_t days, char out[ATT_DATE_TEXT])
{
    int y, m, d;
    att_time_civil_from_days(days, &y, &m, &d);
    out[0] = '\0';
    if (y < 1 || y > 9999) return false;
    char buf[48];
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
    memcpy(out, buf, ATT_DATE_TEXT);
    return true;
}
