/* Unit tests of the multipart/form-data reader (src/http/multipart.c): boundary parameter, part
 * framing with CRLF, the one-file-part rule, limits, and random corruptions read under the sanitizer
 * from exact-size buffers (an overread is a failure). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/http/multipart.h"
#include "support.h"

static char err[256];

/* ---- boundary ------------------------------------------------------------------------------- */

static att_err boundary_of(const char *ct, char *out) { return mp_boundary(ct, out, err, sizeof err); }

START_TEST(boundary_forms)
{
    char b[MP_BOUNDARY_MAX + 1];
    /* what curl sends */
    ck_assert_int_eq(boundary_of("multipart/form-data; boundary=------------------------d74496d66958873e", b), ATT_OK);
    ck_assert_str_eq(b, "------------------------d74496d66958873e");
    /* quoted, with a space inside (allowed, RFC 2046), other parameters around, name in any case */
    ck_assert_int_eq(boundary_of("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"simple boundary\" ;x=y", b), ATT_OK);
    ck_assert_str_eq(b, "simple boundary");
    ck_assert_int_eq(boundary_of("multipart/form-data;boundary=\"a'()+_,-./:=?\"", b), ATT_OK);
    ck_assert_str_eq(b, "a'()+_,-./:=?");
    char seventy[80], ct[128];
    memset(seventy, 'x', 70);
    seventy[70] = '\0';
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", seventy);
    ck_assert_int_eq(boundary_of(ct, b), ATT_OK);
    ck_assert_str_eq(b, seventy);
}
END_TEST

START_TEST(boundary_refused)
{
    char b[MP_BOUNDARY_MAX + 1];
    static const char *const bad[] = {
        "multipart/form-data",                /* missing */
        "multipart/form-data; charset=utf-8", /* missing */
        "multipart/form-data; boundary=",     /* empty */
        "multipart/form-data; boundary=\"\"", /* empty */
        "multipart/form-data; boundary=\"ends in space \"",
        "multipart/form-data; boundary=\"has@at\"", /* not a bchar */
        "multipart/form-data; boundary=\"unterminated",
        "multipart/form-data; boundary=a; boundary=b", /* two */
        "multipart/form-data; =x",
        "multipart/form-data boundary=x", /* no ';' */
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        err[0] = '\0';
        ck_assert_msg(boundary_of(bad[i], b) == ATT_E_BAD_REQUEST, "accepted: %s", bad[i]);
        ck_assert_msg(err[0] != '\0', "no message for %s", bad[i]);
        ck_assert_str_eq(b, "");
    }
    char long_b[128];
    memset(long_b, 'x', 71);
    snprintf(long_b + 71, sizeof long_b - 71, "%s", "");
    char ct[200];
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", long_b);
    ck_assert_int_eq(boundary_of(ct, b), ATT_E_BAD_REQUEST);
    ck_assert_int_eq(boundary_of(NULL, b), ATT_E_BAD_REQUEST);
}
END_TEST

START_TEST(media_type_match)
{
    ck_assert(mp_media_type_is("image/jpeg", "image/jpeg"));
    ck_assert(mp_media_type_is("  IMAGE/JPEG; q=1", "image/jpeg"));
    ck_assert(mp_media_type_is("multipart/form-data;boundary=x", "multipart/form-data"));
    ck_assert(!mp_media_type_is("image/jpegx", "image/jpeg"));
    ck_assert(!mp_media_type_is("image/jpe", "image/jpeg"));
    ck_assert(!mp_media_type_is("", "image/jpeg"));
    ck_assert(!mp_media_type_is(NULL, "image/jpeg"));
}
END_TEST

/* ---- bodies ---------------------------------------------------------------------------------- */

#define B "XyZ-boundary"

/* Parse body (a string literal or NUL-free text) from an exact-size copy, so any overread trips ASan. */
static att_err parse_len(const char *body, size_t len, struct mp_file *f, char *copy_out, size_t copy_len)
{
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, body, len);
    err[0] = '\0';
    att_err e = mp_find_file(copy, len, B, f, err, sizeof err);
    if (e == ATT_OK && copy_out) { /* the data points into copy: take it out before freeing */
        ck_assert_uint_le(f->len, copy_len);
        memcpy(copy_out, f->data, f->len);
    }
    free(copy);
    return e;
}

static att_err parse(const char *body, struct mp_file *f, char *data_out, size_t data_len)
{
    return parse_len(body, strlen(body), f, data_out, data_len);
}

START_TEST(one_file_like_curl)
{
    /* the shape of `curl -F photo=@face.jpg` */
    const char body[] = "--" B "\r\n"
                        "Content-Disposition: form-data; name=\"photo\"; filename=\"face.jpg\"\r\n"
                        "Content-Type: image/jpeg\r\n"
                        "\r\n"
                        "\xff\xd8\xff\0\r\n\r\xff\xd9"
                        "\r\n--" B "--\r\n";
    struct mp_file f;
    char data[64];
    ck_assert_int_eq(parse_len(body, sizeof body - 1, &f, data, sizeof data), ATT_OK);
    ck_assert_uint_eq(f.len, 9);
    ck_assert_int_eq(memcmp(data, "\xff\xd8\xff\0\r\n\r\xff\xd9", 9), 0); /* binary, CR/LF/NUL inside kept */
    ck_assert_str_eq(f.content_type, "image/jpeg");
}
END_TEST

START_TEST(preamble_fields_epilogue_padding)
{
    const char *body = "this is a preamble\r\n"
                       "--" B "  \t\r\n" /* transport padding after the boundary */
                       "content-disposition: Form-Data; name=note\r\n\r\n"
                       "hello --" B " not a delimiter (no CRLF before it)\r\n"
                       "--" B "\r\n"
                       "Content-Disposition: form-data; name=\"photo\"; filename*=UTF-8''f%C3%A4ce.png\r\n"
                       "Content-Type: Image/PNG; charset=binary\r\n"
                       "X-Other: ignored\r\n"
                       "\r\n"
                       "PNGDATA"
                       "\r\n--" B "--"
                       "epilogue, ignored\r\n--" B "\r\n";
    struct mp_file f;
    char data[64];
    ck_assert_int_eq(parse(body, &f, data, sizeof data), ATT_OK);
    ck_assert_uint_eq(f.len, 7);
    ck_assert_int_eq(memcmp(data, "PNGDATA", 7), 0);
    ck_assert_str_eq(f.content_type, "image/png");

    /* an empty file part is a file part; its type may be absent */
    body = "--" B "\r\nContent-Disposition: form-data; name=f; filename=\"\"\r\n\r\n\r\n--" B "--";
    ck_assert_int_eq(parse(body, &f, data, sizeof data), ATT_OK);
    ck_assert_uint_eq(f.len, 0);
    ck_assert_str_eq(f.content_type, "");
}
END_TEST

START_TEST(file_part_count)
{
    struct mp_file f;
    /* no file part: only fields, or no part at all */
    const char *none = "--" B "\r\nContent-Disposition: form-data; name=\"photo\"\r\n\r\nnot a file\r\n--" B "--\r\n";
    ck_assert_int_eq(parse(none, &f, NULL, 0), ATT_E_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "no file part"));
    ck_assert_ptr_null(f.data);
    ck_assert_int_eq(parse("--" B "--\r\n", &f, NULL, 0), ATT_E_INVALID);
    /* two file parts */
    const char *two =
        "--" B "\r\nContent-Disposition: form-data; name=a; filename=a.jpg\r\nContent-Type: image/jpeg\r\n\r\nA"
        "\r\n--" B "\r\nContent-Disposition: form-data; name=b; filename=b.jpg\r\nContent-Type: image/jpeg\r\n\r\nB"
        "\r\n--" B "--\r\n";
    ck_assert_int_eq(parse(two, &f, NULL, 0), ATT_E_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "more than one file part"));
}
END_TEST

START_TEST(malformed_bodies)
{
    struct mp_file f;
    static const char *const bad[] = {
        "", /* empty */
        "no boundary at all",
        /* missing closing boundary (body cut) */
        "--" B "\r\nContent-Disposition: form-data; name=p; filename=x\r\n\r\nDATA",
        /* last delimiter without "--" and nothing after */
        "--" B "\r\nContent-Disposition: form-data; name=p; filename=x\r\n\r\nDATA\r\n--" B,
        /* header block without its blank line */
        "--" B "\r\nContent-Disposition: form-data; name=p; filename=x\r\n",
        /* LF-only line ends */
        "--" B "\nContent-Disposition: form-data; name=p; filename=x\n\nDATA\n--" B "--\n",
        /* header line without a colon / with an empty name / folded */
        "--" B "\r\nContent-Disposition form-data\r\n\r\nD\r\n--" B "--",
        "--" B "\r\n: form-data\r\n\r\nD\r\n--" B "--",
        "--" B "\r\nContent-Disposition: form-data;\r\n name=p\r\n\r\nD\r\n--" B "--",
        /* no Content-Disposition, or not form-data, or twice */
        "--" B "\r\nContent-Type: image/jpeg\r\n\r\nD\r\n--" B "--",
        "--" B "\r\nContent-Disposition: attachment; filename=x\r\n\r\nD\r\n--" B "--",
        "--" B "\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n\r\nD\r\n--" B
        "--",
        /* malformed disposition parameters */
        "--" B "\r\nContent-Disposition: form-data; name=\"unterminated\r\n\r\nD\r\n--" B "--",
        /* junk after the boundary on its line */
        "--" B "junk\r\nContent-Disposition: form-data; name=p; filename=x\r\n\r\nD\r\n--" B "--",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        ck_assert_msg(parse(bad[i], &f, NULL, 0) == ATT_E_BAD_REQUEST, "accepted #%d: %s", i, bad[i]);
        ck_assert_msg(err[0] != '\0', "no message for #%d", i);
    }
    ck_assert_int_eq(mp_find_file("x", 1, "", &f, err, sizeof err), ATT_E_BAD_REQUEST); /* empty boundary */
    ck_assert_int_eq(mp_find_file(NULL, 0, B, &f, err, sizeof err), ATT_E_BAD_REQUEST);
}
END_TEST

START_TEST(limits)
{
    struct mp_file f;
    /* a header block over MP_PART_HEADERS_MAX, whether or not its blank line comes later */
    size_t big = MP_PART_HEADERS_MAX + 100;
    char *body = malloc(big + 256);
    int n = snprintf(body, 256, "--" B "\r\nContent-Disposition: form-data; name=p; filename=x\r\nX-Pad: ");
    memset(body + n, 'a', big);
    snprintf(body + n + big, 256, "\r\n\r\nD\r\n--" B "--");
    ck_assert_int_eq(parse(body, &f, NULL, 0), ATT_E_BAD_REQUEST);
    ck_assert_ptr_nonnull(strstr(err, "exceed"));
    body[n + big] = '\0'; /* and cut before the blank line */
    ck_assert_int_eq(parse(body, &f, NULL, 0), ATT_E_BAD_REQUEST);
    free(body);

    /* more than MP_PARTS_MAX parts */
    size_t cap = 64 * (MP_PARTS_MAX + 2), off = 0;
    body = malloc(cap);
    for (int i = 0; i < MP_PARTS_MAX + 1; i++)
        off += (size_t)snprintf(body + off, cap - off,
                                "--" B "\r\nContent-Disposition: form-data; name=f%d\r\n\r\nv\r\n", i);
    snprintf(body + off, cap - off, "--" B "--");
    ck_assert_int_eq(parse(body, &f, NULL, 0), ATT_E_BAD_REQUEST);
    ck_assert_ptr_nonnull(strstr(err, "parts"));
    free(body);
}
END_TEST

/* Random corruptions of a valid body: any answer is fine, reading outside the buffer is not. */
START_TEST(random_corruptions)
{
    const char base[] = "pre\r\n--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nfield\r\n"
                        "--" B "\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"f.jpg\"\r\n"
                        "Content-Type: image/jpeg\r\n\r\n\xff\xd8 data \xff\xd9\r\n--" B "--\r\n";
    const size_t blen = sizeof base - 1;
    srand(4242);
    char buf[sizeof base + 16];
    int ok = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, base, blen);
        size_t len = blen;
        int edits = 1 + rand() % 4;
        for (int k = 0; k < edits; k++) {
            size_t at = (size_t)rand() % len;
            switch (rand() % 4) {
            case 0: buf[at] = (char)(rand() % 256); break;      /* flip a byte */
            case 1: len = at; break;                            /* truncate */
            case 2: buf[at] = "\r\n-\"; =:"[rand() % 8]; break; /* a syntax character */
            default: /* delete a byte */ memmove(buf + at, buf + at + 1, len - at - 1); len--;
            }
            if (len == 0) break;
        }
        struct mp_file f;
        char *copy = malloc(len ? len : 1);
        memcpy(copy, buf, len);
        att_err e = mp_find_file(copy, len, B, &f, err, sizeof err);
        if (e == ATT_OK) {
            ok++;
            ck_assert(f.data >= copy && f.data + f.len <= copy + len);
        } else {
            ck_assert(e == ATT_E_BAD_REQUEST || e == ATT_E_INVALID);
        }
        free(copy);
    }
    ck_assert_int_gt(ok, 0); /* some corruptions leave a valid body (a byte of the data flipped) */
}
END_TEST

Suite *multipart_suite(void)
{
    Suite *s = suite_create("multipart");
    ts_tcase(s, "parse", 60, NULL, NULL, boundary_forms, boundary_refused, media_type_match, one_file_like_curl,
             preamble_fields_epilogue_padding, file_part_count, malformed_bodies, limits, random_corruptions, NULL);
    return s;
}
