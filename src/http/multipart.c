/* A small multipart/form-data reader for photo uploads: boundary from the Content-Type, then one
 * pass over the body with explicit lengths (the body is binary: no string functions on it). */
#include "src/http/multipart.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

/* RFC 9110 tchar: the characters of a token (parameter names, unquoted values). */
static bool is_tchar(char c)
{
    unsigned char u = (unsigned char)c;
    if (u <= 0x20 || u >= 0x7f) return false;
    return strchr("\"(),/:;<=>?@[\\]{}", c) == NULL;
}

/* RFC 2046 bcharsnospace; a space is allowed too, except as the last character. */
static bool is_bchar(char c)
{
    unsigned char u = (unsigned char)c;
    if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z')) return true;
    return c != '\0' && strchr("'()+_,-./:=? ", c) != NULL;
}

bool mp_media_type_is(const char *value, const char *type_subtype)
{
    if (value == NULL) return false;
    while (is_ows(*value)) value++;
    size_t n = strcspn(value, "; \t");
    return n == strlen(type_subtype) && strncasecmp(value, type_subtype, n) == 0;
}

/* The next ";name=value" of a NUL-terminated header value, s just after the previous item.
 * name is lower-cased; value unquoted (quoted-pair escapes removed). 1: found, 0: end, -1: malformed
 * or a name/value longer than its buffer. */
static int next_param(const char **sp, char *name, size_t namelen, char *val, size_t vallen)
{
    const char *s = *sp;
    while (is_ows(*s)) s++;
    if (*s == '\0') return 0;
    if (*s != ';') return -1;
    s++;
    while (is_ows(*s)) s++;
    if (*s == '\0') return 0; /* a trailing ';' */
    size_t n = 0;
    for (; is_tchar(*s); s++) {
        if (n + 1 >= namelen) return -1;
        name[n++] = (char)((*s >= 'A' && *s <= 'Z') ? *s - 'A' + 'a' : *s);
    }
    name[n] = '\0';
    if (n == 0) return -1;
    while (is_ows(*s)) s++;
    if (*s != '=') return -1;
    s++;
    while (is_ows(*s)) s++;
    n = 0;
    if (*s == '"') {
        for (s++; *s != '"'; s++) {
            if (*s == '\0') return -1; /* unterminated */
            if (*s == '\\' && s[1] != '\0') s++;
            if (n + 1 >= vallen) return -1;
            val[n++] = *s;
        }
        s++;
    } else {
        for (; is_tchar(*s); s++) {
            if (n + 1 >= vallen) return -1;
            val[n++] = *s;
        }
        if (n == 0) return -1;
    }
    val[n] = '\0';
    *sp = s;
    return 1;
}

att_err mp_boundary(const char *content_type, char out[MP_BOUNDARY_MAX + 1], char *err, size_t errlen)
{
    out[0] = '\0';
    if (content_type == NULL) return att_fail(ATT_E_BAD_REQUEST, err, errlen, "no Content-Type");
    const char *s = content_type;
    while (is_ows(*s)) s++;
    s += strcspn(s, "; \t"); /* the media type itself */
    char name[32], val[MP_BOUNDARY_MAX + 2], found_val[MP_BOUNDARY_MAX + 1];
    bool found = false;
    int r;
    while ((r = next_param(&s, name, sizeof name, val, sizeof val)) == 1) {
        if (strcmp(name, "boundary") != 0) continue;
        if (found) return att_fail(ATT_E_BAD_REQUEST, err, errlen, "the Content-Type names two boundaries");
        found = true;
        size_t n = strlen(val);
        if (n == 0 || n > MP_BOUNDARY_MAX || val[n - 1] == ' ')
            return att_fail(ATT_E_BAD_REQUEST, err, errlen, "the multipart boundary must be 1 to %d characters",
                            MP_BOUNDARY_MAX);
        for (size_t i = 0; i < n; i++)
            if (!is_bchar(val[i]))
                return att_fail(ATT_E_BAD_REQUEST, err, errlen,
                                "the multipart boundary has a character RFC 2046 does "
                                "not allow");
        memcpy(found_val, val, n + 1);
    }
    if (r < 0)
        return att_fail(ATT_E_BAD_REQUEST, err, errlen,
                        "malformed Content-Type parameters (or a boundary over %d "
                        "characters)",
                        MP_BOUNDARY_MAX);
    if (!found) return att_fail(ATT_E_BAD_REQUEST, err, errlen, "the multipart Content-Type has no boundary parameter");
    memcpy(out, found_val, strlen(found_val) + 1); /* only a fully valid header sets out */
    return ATT_OK;
}

static const char *find(const char *hay, size_t haylen, const char *needle, size_t nlen)
{
    return nlen <= haylen ? memmem(hay, haylen, needle, nlen) : NULL;
}

/* What a part's header block says. */
struct part_info {
    bool has_disposition;
    bool is_file; /* filename or filename* present */
    char content_type[MP_TYPE_MAX];
};

/* Parse a header block of hlen bytes (lines separated by CRLF, no final CRLF). */
static att_err parse_headers(const char *h, size_t hlen, struct part_info *pi, char *err, size_t errlen)
{
    memset(pi, 0, sizeof *pi);
    char line[MP_PART_HEADERS_MAX + 1];
    char name[64], val[MP_PART_HEADERS_MAX + 1];
    size_t off = 0;
    while (off < hlen) {
        const char *eol = find(h + off, hlen - off, "\r\n", 2);
        size_t ll = eol ? (size_t)(eol - (h + off)) : hlen - off;
        if (ll >= sizeof line) return att_fail(ATT_E_BAD_REQUEST, err, errlen, "a part header line is too long");
        memcpy(line, h + off, ll);
        line[ll] = '\0';
        off += ll + (eol ? 2 : 0);
        if (memchr(line, '\0', ll) != NULL || strpbrk(line, "\r\n") != NULL)
            return att_fail(ATT_E_BAD_REQUEST, err, errlen, "a part header holds a NUL, CR or LF");
        if (ll == 0 || is_ows(line[0]))
            return att_fail(ATT_E_BAD_REQUEST, err, errlen, "empty or folded part header line");
        char *colon = strchr(line, ':');
        if (colon == NULL || colon == line)
            return att_fail(ATT_E_BAD_REQUEST, err, errlen, "a part header has no name");
        *colon = '\0';
        for (char *c = line; *c; c++)
            if (!is_tchar(*c)) return att_fail(ATT_E_BAD_REQUEST, err, errlen, "a part header name is not a token");
        const char *v = colon + 1;
        while (is_ows(*v)) v++;
        if (strcasecmp(line, "Content-Disposition") == 0) {
            if (pi->has_disposition)
                return att_fail(ATT_E_BAD_REQUEST, err, errlen, "a part has two Content-Disposition headers");
            size_t n = strcspn(v, "; \t");
            if (n != strlen("form-data") || strncasecmp(v, "form-data", n) != 0)
                return att_fail(ATT_E_BAD_REQUEST, err, errlen, "a part's Content-Disposition is not form-data");
            pi->has_disposition = true;
            const char *s = v + n;
            int r;
            while ((r = next_param(&s, name, sizeof name, val, sizeof val)) == 1)
                if (strcmp(name, "filename") == 0 || strcmp(name, "filename*") == 0) pi->is_file = true;
            if (r < 0) return att_fail(ATT_E_BAD_REQUEST, err, errlen, "malformed Content-Disposition parameters");
        } else if (strcasecmp(line, "Content-Type") == 0) {
            if (pi->content_type[0] != '\0')
                return att_fail(ATT_E_BAD_REQUEST, err, errlen, "a part has two Content-Type headers");
            size_t n = strcspn(v, "; \t");
            if (n == 0 || n >= sizeof pi->content_type)
                return att_fail(ATT_E_BAD_REQUEST, err, errlen, "a part's Content-Type is empty or too long");
            for (size_t i = 0; i < n; i++)
                pi->content_type[i] = (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] - 'A' + 'a' : v[i]);
            pi->content_type[n] = '\0';
        } /* other headers (Content-Transfer-Encoding is deprecated by RFC 7578) are ignored */
    }
    if (!pi->has_disposition)
        return att_fail(ATT_E_BAD_REQUEST, err, errlen, "a part has no Content-Disposition: form-data header");
    return ATT_OK;
}

att_err mp_find_file(const char *body, size_t len, const char *boundary, struct mp_file *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t blen = boundary ? strlen(boundary) : 0;
    if (blen == 0 || blen > MP_BOUNDARY_MAX) return att_fail(ATT_E_BAD_REQUEST, err, errlen, "bad multipart boundary");
    if (body == NULL) len = 0;
    char delim[4 + MP_BOUNDARY_MAX + 1]; /* CRLF "--" boundary */
    size_t dl = 4 + blen;
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen + 1);

    const char *end = body + len, *p;
    /* the first delimiter opens the body or follows a preamble line */
    if (len >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0) {
        p = body + dl - 2;
    } else {
        const char *d = find(body, len, delim, dl);
        if (d == NULL) return att_fail(ATT_E_BAD_REQUEST, err, errlen, "the multipart body has no opening boundary");
        p = d + dl;
    }

    size_t parts = 0, files = 0;
    for (;;) {
        /* p is just past a delimiter: "--" closes the body, else optional padding and CRLF */
        if ((size_t)(end - p) >= 2 && p[0] == '-' && p[1] == '-') break; /* the epilogue is ignored */
        while (p < end && is_ows(*p)) p++;
        if ((size_t)(end - p) < 2 || p[0] != '\r' || p[1] != '\n')
            return att_fail(ATT_E_BAD_REQUEST, err, errlen,
                            "a multipart boundary line does not end in CRLF (or the "
                            "closing boundary is missing)");
        p += 2;
        if (++parts > MP_PARTS_MAX)
            return att_fail(ATT_E_BAD_REQUEST, err, errlen, "more than %d multipart parts", MP_PARTS_MAX);

        /* header block: lines up to an empty line; may be empty itself */
        const char *hdr = p, *data;
        size_t hlen;
        if ((size_t)(end - p) >= 2 && p[0] == '\r' && p[1] == '\n') {
            hlen = 0;
            data = p + 2;
        } else {
            size_t window = (size_t)(end - p);
            if (window > MP_PART_HEADERS_MAX + 4) window = MP_PART_HEADERS_MAX + 4;
            const char *blank = find(p, window, "\r\n\r\n", 4);
            if (blank == NULL || (size_t)(blank - p) > MP_PART_HEADERS_MAX) {
                if ((size_t)(end - p) > MP_PART_HEADERS_MAX)
                    return att_fail(ATT_E_BAD_REQUEST, err, errlen, "a part's headers exceed %d bytes",
                                    MP_PART_HEADERS_MAX);
                return att_fail(ATT_E_BAD_REQUEST, err, errlen, "a part's headers do not end with an empty line");
            }
            hlen = (size_t)(blank - p);
            data = blank + 4;
        }
        struct part_info pi;
        att_err e = parse_headers(hdr, hlen, &pi, err, errlen);
        if (e != ATT_OK) return e;

        const char *d = find(data, (size_t)(end - data), delim, dl);
        if (d == NULL) return att_fail(ATT_E_BAD_REQUEST, err, errlen, "the multipart body has no closing boundary");
        if (pi.is_file) {
            if (++files > 1)
                return att_fail(ATT_E_INVALID, err, errlen, "the multipart body has more than one file part");
            out->data = data;
            out->len = (size_t)(d - data);
            memcpy(out->content_type, pi.content_type, sizeof out->content_type);
        }
        p = d + dl;
    }
    if (files == 0) {
        memset(out, 0, sizeof *out);
        return att_fail(ATT_E_INVALID, err, errlen, "the multipart body has no file part");
    }
    return ATT_OK;
}
