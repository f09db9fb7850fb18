/* Camera source URLs: one model (cap_url_parse) behind validation (what the camera API accepts, 422
 * otherwise), credential redaction for every log line, answer and audit row, and the pre-flight's
 * host and port. The user information is always what lies between "://" and the URL's LAST '@':
 * the parser refuses a URL where that part holds '/', '?', '#' or anything else that would let
 * another reader (FFmpeg, a log viewer) split it elsewhere, so the redactor, which masks exactly
 * that part in any text, masks the password of every URL the parser accepts. Error texts never
 * repeat the URL itself. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "attendd/capture.h"
#include "capture_internal.h"

static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_hex(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static bool is_scheme_char(int c) { return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.'; }
static int hex_val(int c) { return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10; }

/* Where a URL ends inside free text. The parser refuses every one of these characters, so an
 * accepted URL is never cut short in a log line (which would leave a tail unmasked). */
static bool url_stop(int c)
{
    return c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '<' ||
        c == '>' || c == '`';
}

/* The '@' that ends the user information of the URL whose authority starts at auth and which
 * ends at end: the last one. NULL when there is none. */
static const char *userinfo_end(const char *auth, const char *end)
{
    const char *at = NULL;
    for (const char *p = auth; p < end; p++)
        if (*p == '@') at = p;
    return at;
}

/* RFC 3986 userinfo: unreserved, percent-encoded, sub-delims (but the quote) and ':'. */
static bool userinfo_char(int c) { return is_alpha(c) || is_digit(c) || strchr("-._~!$&()*+,;=:%", c) != NULL; }

/* What may follow the authority: path and query characters (no fragment, no quote). */
static bool rest_char(int c) { return is_alpha(c) || is_digit(c) || strchr("-._~!$&()*+,;=:@/?%", c) != NULL; }

/* Every '%' starts a %HH escape. */
static bool pct_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '%' && (i + 2 >= n || !is_hex((unsigned char)s[i + 1]) || !is_hex((unsigned char)s[i + 2])))
            return false;
    return true;
}

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

/* host[:port] or [v6]:port of an rtsp authority (userinfo already removed) into u. */
static att_err parse_hostport(const char *h, size_t n, struct cap_url *u, char *err, size_t errlen)
{
    if (n == 0) return att_fail(ATT_E_INVALID, err, errlen, "URL has no host");
    size_t i = 0;
    const char *name = h;
    size_t name_len;
    if (h[0] == '[') {
        for (i = 1; i < n && h[i] != ']'; i++)
            if (!is_hex((unsigned char)h[i]) && h[i] != ':' && h[i] != '.')
                return att_fail(ATT_E_INVALID, err, errlen, "URL has an invalid IPv6 host");
        if (i >= n || i == 1) return att_fail(ATT_E_INVALID, err, errlen, "URL has an invalid IPv6 host");
        name = h + 1;
        name_len = i - 1;
        i++; /* past ']' */
    } else {
        for (; i < n && h[i] != ':'; i++) {
            int c = (unsigned char)h[i];
            if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_')
                return att_fail(ATT_E_INVALID, err, errlen, "URL host contains an invalid character");
        }
        if (i == 0) return att_fail(ATT_E_INVALID, err, errlen, "URL has no host");
        name_len = i;
    }
    if (name_len >= sizeof u->host)
        return att_fail(ATT_E_INVALID, err, errlen, "URL host is longer than %zu bytes", sizeof u->host - 1);
    memcpy(u->host, name, name_len);
    u->host[name_len] = '\0';
    if (i == n) {
        snprintf(u->port, sizeof u->port, "%s", u->tls ? "322" : "554");
        return ATT_OK;
    }
    if (h[i] != ':' || !port_ok(h + i + 1, n - i - 1))
        return att_fail(ATT_E_INVALID, err, errlen, "URL has an invalid port (1-65535)");
    memcpy(u->port, h + i + 1, n - i - 1);
    u->port[n - i - 1] = '\0';
    return ATT_OK;
}

static att_err parse_path(const char *url, size_t len, struct cap_url *u, char *err, size_t errlen)
{
    if (strncmp(url, "/dev/", 5) == 0) {
        const char *n = url + 5;
        size_t digits = strlen(n) > 5 ? strlen(n) - 5 : 0;
        if (strncmp(n, "video", 5) != 0 || digits == 0 || digits > 3 || strspn(n + 5, "0123456789") != digits)
            return att_fail(ATT_E_INVALID, err, errlen, "device paths other than /dev/videoN are not accepted");
        u->kind = CAP_SRC_V4L2;
        return ATT_OK;
    }
    if (url[len - 1] == '/') return att_fail(ATT_E_INVALID, err, errlen, "names a directory, not a video file");
    if (strncmp(url, "/proc/", 6) == 0 || strncmp(url, "/sys/", 5) == 0 || strcmp(url, "/proc") == 0 ||
        strcmp(url, "/sys") == 0)
        return att_fail(ATT_E_INVALID, err, errlen, "paths under /proc and /sys are not accepted");
    /* "/x/../dev/sda" would pass the /dev/ prefix test above: no dot segments, no doubled '/' */
    if (strstr(url, "/../") || strstr(url, "/./") || strstr(url, "//") ||
        (len >= 3 && strcmp(url + len - 3, "/..") == 0) || (len >= 2 && strcmp(url + len - 2, "/.") == 0))
        return att_fail(ATT_E_INVALID, err, errlen, "must be a plain absolute path (no '.', '..' or empty segments)");
    u->kind = CAP_SRC_FILE;
    return ATT_OK;
}

att_err cap_url_parse(const char *url, struct cap_url *u, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!u) return att_fail(ATT_E_INVALID, err, errlen, "no output");
    memset(u, 0, sizeof *u);
    if (!url || !*url) return att_fail(ATT_E_INVALID, err, errlen, "is empty");
    size_t len = strlen(url);
    if (len > CAP_URL_MAX) return att_fail(ATT_E_INVALID, err, errlen, "is longer than %d bytes", CAP_URL_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c < 0x20 || c == 0x7f) return att_fail(ATT_E_INVALID, err, errlen, "contains control characters");
    }
    if (url[0] == '/') return parse_path(url, len, u, err, errlen);

    const char *sep = strstr(url, "://");
    if (!sep) {
        /* "scheme:..." without "//", or a relative path */
        size_t s = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
        if (s > 0 && url[s] == ':' && is_alpha((unsigned char)url[0]))
            return att_fail(ATT_E_INVALID, err, errlen,
                            "must be rtsp://, rtsps://, an absolute file path or /dev/videoN");
        return att_fail(ATT_E_INVALID, err, errlen, "is a relative path: give an absolute file path or an rtsp:// URL");
    }
    size_t slen = (size_t)(sep - url);
    bool scheme_ok = slen > 0 && is_alpha((unsigned char)url[0]);
    for (size_t i = 0; scheme_ok && i < slen; i++) scheme_ok = is_scheme_char((unsigned char)url[i]);
    if (!scheme_ok || slen > 16) return att_fail(ATT_E_INVALID, err, errlen, "has an invalid scheme");
    if (!((slen == 4 && strncasecmp(url, "rtsp", 4) == 0) || (slen == 5 && strncasecmp(url, "rtsps", 5) == 0)))
        return att_fail(ATT_E_INVALID, err, errlen,
                        "unsupported scheme '%.*s' (rtsp, rtsps, an absolute file path or /dev/videoN)", (int)slen,
                        url);
    u->kind = CAP_SRC_RTSP;
    u->tls = slen == 5;

    const char *auth = sep + 3, *end = url + len;
    for (const char *p = auth; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ' || c >= 0x80)
            return att_fail(ATT_E_INVALID, err, errlen, "URL contains spaces or non-ASCII bytes (percent-encode them)");
        if (url_stop(c))
            return att_fail(ATT_E_INVALID, err, errlen, "URL contains a quote or angle bracket (percent-encode it)");
    }
    if (strchr(auth, '#'))
        return att_fail(ATT_E_INVALID, err, errlen,
                        "URL contains '#': a camera URL has no fragment (in a password, write %%23)");
    const char *at = userinfo_end(auth, end);
    const char *hp = auth;
    if (at) {
        size_t ulen = (size_t)(at - auth);
        for (size_t i = 0; i < ulen; i++)
            if (!userinfo_char((unsigned char)auth[i]))
                return att_fail(ATT_E_INVALID, err, errlen,
                                "URL has '/', '?', '@', '[' or another reserved character before its last '@': in a "
                                "user name or password percent-encode them (%%2F, %%3F, %%40, ...); elsewhere write "
                                "'@' as %%40");
        if (ulen == 0 || auth[0] == ':')
            return att_fail(ATT_E_INVALID, err, errlen, "URL has an empty user name before '@'");
        if (!pct_ok(auth, ulen))
            return att_fail(ATT_E_INVALID, err, errlen, "URL has a '%%' that is not a %%HH escape in its user part");
        u->userinfo_len = ulen;
        hp = at + 1;
    }
    size_t hplen = strcspn(hp, "/?");
    att_err e = parse_hostport(hp, hplen, u, err, errlen);
    if (e != ATT_OK) return e;
    u->hostport_off = (size_t)(hp - url);
    u->hostport_len = hplen;
    u->rest_off = u->hostport_off + hplen;
    for (const char *p = url + u->rest_off; p < end; p++)
        if (!rest_char((unsigned char)*p))
            return att_fail(ATT_E_INVALID, err, errlen,
                            "URL path or query contains a character that must be percent-encoded");
    if (!pct_ok(url + u->rest_off, (size_t)(end - url - u->rest_off)))
        return att_fail(ATT_E_INVALID, err, errlen, "URL has a '%%' that is not a %%HH escape");
    return ATT_OK;
}

att_err cap_url_validate(const char *url, enum cap_source_kind *kind, char *err, size_t errlen)
{
    struct cap_url u;
    att_err e = cap_url_parse(url, &u, err, errlen);
    if (e == ATT_OK && u.kind == CAP_SRC_RTSP) e = cap_allow_host(u.host, err, errlen);
    if (e == ATT_OK && kind) *kind = u.kind;
    return e;
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

/* A parameter name that may carry a credential, compared after percent-decoding and ignoring case:
 * the short names cameras use (p, u, pw, ...) exactly, and anything containing a telling word. */
static bool secret_key(const char *k, size_t n)
{
    char name[64];
    size_t m = 0;
    for (size_t i = 0; i < n && m + 1 < sizeof name; i++) {
        int c = (unsigned char)k[i];
        if (c == '%' && i + 2 < n && is_hex((unsigned char)k[i + 1]) && is_hex((unsigned char)k[i + 2])) {
            c = hex_val((unsigned char)k[i + 1]) * 16 + hex_val((unsigned char)k[i + 2]);
            i += 2;
        }
        name[m++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    name[m] = '\0';
    if (m + 1 >= sizeof name) return true; /* a name this long is not worth the risk */
    static const char *const exact[] = {"p", "u", "pw", "pin", "usr", "login", "sid", "code", "hash"};
    for (size_t w = 0; w < sizeof exact / sizeof *exact; w++)
        if (strcmp(name, exact[w]) == 0) return true;
    static const char *const words[] = {"pass", "pwd",    "user", "token", "auth",
                                        "key",  "secret", "sig",  "cred",  "session"};
    for (size_t w = 0; w < sizeof words / sizeof *words; w++)
        if (strstr(name, words[w])) return true;
    return false;
}

/* Copy the path and query u[0..n), masking the value of every name=value piece (pieces end at '/',
 * ';', '&', '?') whose name looks secret; '#' and what follows is copied as it is. */
static void redact_params(const char *u, size_t n, struct out *o)
{
    const char *end = u + n, *p = u;
    const char *frag = memchr(u, '#', n);
    if (frag) end = frag;
    while (p < end) {
        const char *pe = p;
        while (pe < end && !strchr("/;&?", *pe)) pe++;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (eq && secret_key(p, (size_t)(eq - p))) {
            put(o, p, (size_t)(eq - p) + 1);
            put(o, "***", 3);
        } else if (!eq && p > u && p[-1] != '/' && secret_key(p, (size_t)(pe - p))) {
            put(o, "***", 3); /* a bare query word that looks secret */
        } else {
            put(o, p, (size_t)(pe - p));
        }
        if (pe < end) put(o, pe++, 1);
        p = pe;
    }
    if (frag) put(o, frag, n - (size_t)(frag - u));
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
    /* the same split as cap_url_parse: everything up to the last '@' is user information */
    const char *at = userinfo_end(rest, end);
    if (at) {
        put(o, "***@", 4);
        rest = at + 1;
    }
    const char *q = rest;
    while (q < end && *q != '/' && *q != '?' && *q != '#') q++;
    put(o, rest, (size_t)(q - rest));
    redact_params(q, (size_t)(end - q), o);
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
