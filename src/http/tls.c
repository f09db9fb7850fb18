/* Reading the HTTPS certificate and key (see tls.h). The key never sits in ordinary heap memory:
 * it is read straight into a sodium_malloc buffer, wiped when freed. */
#include "tls.h"

#include "attendd/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CERT_MAX (1 << 20) /* a certificate chain is a few KB; refuse anything absurd */
#define KEY_MAX (64 << 10)

/* Read path (key: the config key naming it, for messages) into a NUL-terminated buffer from alloc.
 * secret: the file must be private to this process's user (keyfile_check_private). */
static att_err read_pem(const char *key, const char *path, bool secret, size_t max, void *(*alloc)(size_t),
                        void (*release)(void *), char **out, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "%s %s: %s", key, path, strerror(errno));
        return ATT_E_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s %s: %s", key, path, strerror(errno));
        close(fd);
        return ATT_E_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s %s: not a regular file", key, path);
        close(fd);
        return ATT_E_CONFIG;
    }
    /* the same rule as the other key files (systemd's ACL credential form included) */
    if (secret) {
        char what[4200];
        snprintf(what, sizeof what, "%s %s", key, path);
        att_err e = keyfile_check_private(fd, &st, what, err, errlen);
        if (e != ATT_OK) {
            close(fd);
            return e;
        }
    }
    if (st.st_size <= 0 || (size_t)st.st_size > max) {
        snprintf(err, errlen, "%s %s: %lld bytes; a PEM file of 1 to %zu bytes is expected", key, path,
                 (long long)st.st_size, max);
        close(fd);
        return ATT_E_CONFIG;
    }
    size_t size = (size_t)st.st_size;
    char *buf = alloc(size + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "%s %s: out of memory", key, path);
        close(fd);
        return ATT_E_NOMEM;
    }
    size_t n = 0;
    while (n < size) {
        ssize_t r = read(fd, buf + n, size - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    att_err e = ATT_OK;
    if (n != size) {
        snprintf(err, errlen, "%s %s: short read", key, path);
        e = ATT_E_IO;
    } else if (memchr(buf, '\0', n) != NULL || strstr(buf, "-----BEGIN ") == NULL) {
        /* DER or anything else: GnuTLS would only say "base64 decoding error" */
        snprintf(err, errlen, "%s %s: not a PEM file (no -----BEGIN line)", key, path);
        e = ATT_E_CONFIG;
    }
    if (e != ATT_OK) {
        sodium_memzero(buf, size + 1);
        release(buf);
        return e;
    }
    *out = buf;
    return ATT_OK;
}

att_err http_tls_load(const char *cert_path, const char *key_path, struct http_tls *out, char *err, size_t errlen)
{
    out->cert = out->key = NULL;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium could not be initialised");
        return ATT_E_CRYPTO;
    }
    att_err e = read_pem("tls_cert_file", cert_path, false, CERT_MAX, malloc, free, &out->cert, err, errlen);
    if (e != ATT_OK) return e;
    e = read_pem("tls_key_file", key_path, true, KEY_MAX, sodium_malloc, sodium_free, &out->key, err, errlen);
    if (e != ATT_OK) {
        free(out->cert);
        out->cert = NULL;
    }
    return e;
}

void http_tls_free(struct http_tls *t)
{
    if (t->key != NULL) {
        sodium_memzero(t->key, strlen(t->key)); /* sodium_free wipes too; this says so here */
        sodium_free(t->key);
    }
    free(t->cert);
    t->cert = t->key = NULL;
}
