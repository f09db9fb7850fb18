/* Camera source URLs: validation (what the camera API accepts, 422 otherwise) and credential
 * redaction for every log line and status text. Error texts never repeat the URL itself. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "attendd/capture.h"

static att_err fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static att_err fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return ATT_E_INVALID;
}

static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_hex(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static bool is_scheme_char(int c) { return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.'; }

/* Port: 1..65535, digits only, no leading sign. */
static bool port_ok(const char *p, size_t n)
{
    if (n == 0 || n > 5) return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)p[i])) return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

/* host[:port] or [v6]:port of an rtsp authority (userinfo already removed). */
static att_err check_hostport(const char *h, size_t n, char *err, size_t errlen)
{
    if (n == 0) return fail(err, errlen, "URL has no host");
    size_t i = 0;
    if (h[0] == '[') {
        for (i = 1; i < n && h[i] != ']'; i++)
            if (!is_hex((unsigned char)h[i]) && h[i] != ':' && h[i] != '.')
                return fail(err, errlen, "URL has an invalid IPv6 host");
        if (i >= n || i == 1) return fail(err, errlen, "URL has an invalid IPv6 host");
        i++; /* past ']' */
    } else {
        for (; i < n && h[i] != ':'; i++) {
            int c = (unsigned char)h[i];
            if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_')
                return fail(err, errlen, "URL host contains an invalid character");
        }
        if (i == 0) return fail(err, errlen, "URL has no host");
    }
    if (i == n) return ATT_OK;
    if (h[i] != ':' || !port_ok(h + i + 1, n - i - 1))
        return fail(err, errlen, "URL has an invalid port (1-65535)");
    return ATT_OK;
}

att_err cap_url_validate(const char *url, enum cap_source_kind *kind, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!url || !*url) return fail(err, errlen, "is empty");
    size_t len = strlen(url);
    if (len > CAP_URL_MAX) return fail(err, errlen, "is longer than %d bytes", CAP_URL_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c < 0x20 || c == 0x7f) return fail(err, errlen, "contains control characters");
    }

    if (url[0] == '/') {
        if (strncmp(url, "/dev/", 5) == 0) {
            const char *n = url + 5;
            size_t digits = strlen(n) > 5 ? strlen(n) - 5 : 0;
            if (strncmp(n, "video", 5) != 0 || digits == 0 || digits > 3 ||
                strspn(n + 5, "0123456789") != digits)
                return fail(err, errlen, "device paths other than /dev/videoN are not accepted");
            if (kind) *kind = CAP_SRC_V4L2;
            return ATT_OK;
        }
        if (url[len - 1] == '/') return fail(err, errlen, "names a directory, not a video file");
        /* "/x/../dev/sda" would pass the /dev/ prefix test above: no dot segments, no doubled '/' */
        if (strstr(url, "/../") || strstr(url, "/./") || strstr(url, "//") ||
            (len >= 3 && strcmp(url + len - 3, "/..") == 0) || (len >= 2 && strcmp(url + len - 2, "/.") == 0))
            return fail(err, errlen, "must be a plain absolute path (no '.', '..' or empty segments)");
        if (kind) *kind = CAP_SRC_FILE;
        return ATT_OK;
    }

    const char *sep = strstr(url, "://");
    if (!sep) {
        /* "scheme:..." without "//", or a relative path */
        size_t s = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
        if (s > 0 && url[s] == ':' && is_alpha((unsigned char)url[0]))
            return fail(err, errlen, "must be rtsp://, rtsps://, an absolute file path or /dev/videoN");
        return fail(err, errlen, "is a relative path: give an absolute file path or an rtsp:// URL");
    }
    size_t slen = (size_t)(sep - url);
    bool scheme_ok = slen > 0 && is_alpha((unsigned char)url[0]);
    for (size_t i = 0; scheme_ok && i < slen; i++) scheme_ok = is_scheme_char((unsigned char)url[i]);
    if (!scheme_ok || slen > 16) return fail(err, errlen, "has an invalid scheme");
    if (!((slen == 4 && strncasecmp(url, "rtsp", 4) == 0) ||
          (slen == 5 && strncasecmp(url, "rtsps", 5) == 0)))
        return fail(err, errlen, "unsupported scheme '%.*s' (rtsp, rtsps, an absolute file path or /dev/videoN)",
                    (int)slen, url);

    const char *rest = sep + 3;
    for (const char *p = rest; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ' || c >= 0x80) return fail(err, errlen, "URL contains spaces or non-ASCII bytes (percent-encode them)");
    }
    size_t alen = strcspn(rest, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (rest[i] == '@') at = rest + i;
    const char *hp = at ? at + 1 : rest;
    att_err e = check_hostport(hp, (size_t)(rest + alen - hp), err, errlen);
    if (e != ATT_OK) return e;
    if (kind) *kind = CAP_SRC_RTSP;
    return ATT_OK;
}

/* ---- redaction -------------------------------------------------------------------------- */

struct out {
    char *p;
    size_t cap, len;
    bool cut;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->len + 1 >= o->cap) {
        if (n) o->cut = true;
        return;
    }
    size_t room = o->cap - 1 - o->len;
    if (n > room) {
        n = room;
        o->cut = true;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static bool secret_key(const char *k, size_t n)
{
    static const char *const words[] = {"pass", "pwd", "user", "token", "auth", "key",
                                        "secret", "sig", "cred", "session"};
    for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
        size_t wl = strlen(words[w]);
        for (size_t i = 0; i + wl <= n; i++)
            if (strncasecmp(k + i, words[w], wl) == 0) return true;
    }
    return false;
}

/* Redact one URL of n bytes (u[0..n) holds "scheme://..."). */
static void redact_url(const char *u, size_t n, struct out *o)
{
    const char *end = u + n;
    const char *sep = NULL;
    for (const char *p = u; p + 3 <= end; p++)
        if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
            sep = p;
            break;
        }
    if (!sep) {
        put(o, u, n);
        return;
    }
    const char *rest = sep + 3;
    put(o, u, (size_t)(rest - u));
    const char *q = rest;
    while (q < end && *q != '?' && *q != '#') q++;
    /* userinfo ends at the last '@' before the query: over-masks a path with '@' rather than
     * leak a password that contains an unescaped '/' */
    const char *at = NULL;
    for (const char *p = rest; p < q; p++)
        if (*p == '@') at = p;
    if (at) {
        put(o, "***@", 4);
        rest = at + 1;
    }
    put(o, rest, (size_t)(q - rest));
    if (q >= end) return;
    if (*q == '#') {
        put(o, q, (size_t)(end - q));
        return;
    }
    put(o, "?", 1);
    const char *p = q + 1;
    while (p < end && *p != '#') {
        const char *pe = p;
        while (pe < end && *pe != '&' && *pe != ';' && *pe != '#') pe++;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (eq && secret_key(p, (size_t)(eq - p))) {
            put(o, p, (size_t)(eq - p) + 1);
            put(o, "***", 3);
        } else if (!eq && secret_key(p, (size_t)(pe - p))) {
            put(o, "***", 3);
        } else {
            put(o, p, (size_t)(pe - p));
        }
        if (pe < end && *pe != '#') {
            put(o, pe, 1);
            pe++;
        }
        p = pe;
    }
    if (p < end) put(o, p, (size_t)(end - p));
}

att_err cap_url_redact(const char *url, char *out, size_t outlen)
{
    if (!out || outlen == 0) return ATT_E_INVALID;
    out[0] = '\0';
    if (!url) return ATT_E_INVALID;
    struct out o = {out, outlen, 0, false};
    redact_url(url, strlen(url), &o);
    return o.cut ? ATT_E_TOO_LARGE : ATT_OK;
}

static bool url_stop(int c)
{
    return c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' ||
           c == '<' || c == '>' || c == '`';
}

att_err cap_text_redact(const char *text, char *out, size_t outlen)
{
    if (!out || outlen == 0) return ATT_E_INVALID;
    out[0] = '\0';
    if (!text) return ATT_E_INVALID;
    struct out o = {out, outlen, 0, false};
    const char *p = text, *copied = text;
    while ((p = strstr(p, "://")) != NULL) {
        const char *s = p;
        while (s > copied && is_scheme_char((unsigned char)s[-1])) s--;
        const char *e = p + 3;
        while (!url_stop((unsigned char)*e)) e++;
        put(&o, copied, (size_t)(s - copied));
        redact_url(s, (size_t)(e - s), &o);
        copied = p = e;
    }
    put(&o, copied, strlen(copied));
    return o.cut ? ATT_E_TOO_LARGE : ATT_OK;
}
