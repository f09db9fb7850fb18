/* HTTPS material for libmicrohttpd: the PEM certificate and private key, read and checked at start
 * (key file private to the daemon's user, key kept in locked memory and wiped once handed over). */
#ifndef ATTENDD_HTTP_TLS_H
#define ATTENDD_HTTP_TLS_H

#include <stddef.h>

#include "attendd/errors.h"

struct http_tls {
    char *cert; /* NUL-terminated PEM (malloc) */
    char *key;  /* NUL-terminated PEM (sodium_malloc: guard pages, locked, wiped on free) */
};

/* Read both files. The key file must be a regular file private to this process's user: no group/other
 * permission bits, or systemd's ACL credential form (keyfile_check_private). On
 * failure err names the file (and the key, tls_cert_file or tls_key_file) and nothing is kept. */
att_err http_tls_load(const char *cert_path, const char *key_path, struct http_tls *out, char *err, size_t errlen);
/* Wipe and free the key (once libmicrohttpd has it: GnuTLS keeps its own copy) and the certificate. */
void http_tls_free(struct http_tls *t);

#endif
