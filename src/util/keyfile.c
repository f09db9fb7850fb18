/* Key files for any 32-byte secret (API-token hashing, template encryption): mode checks, raw or
 * hex forms, O_EXCL creation with mode 0600. */
#include "attendd/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/* sodium_init is idempotent and thread-safe; it only fails when no entropy source works. */
static att_err crypto_ready(void) { return sodium_init() < 0 ? ATT_E_CRYPTO : ATT_OK; }

/* A POSIX ACL that grants read to this process's user alone: how systemd hands a service its
 * LoadCredential= file where the file system has ACLs (root-owned 0400 plus user:<service>:r--; stat
 * then shows the ACL mask as group bits). 1: such an ACL, 0: no ACL (the mode bits decide), -1: an
 * ACL giving access to anyone else. Layout: linux/posix_acl_xattr.h. */
static int acl_private(int fd)
{
    unsigned char buf[512];
    ssize_t n = fgetxattr(fd, "system.posix_acl_access", buf, sizeof buf);
    if (n < 0) return (errno == ENODATA || errno == ENOTSUP) ? 0 : -1;
    if (n < 4 || (n - 4) % 8 != 0 || buf[0] != 2 || buf[1] || buf[2] || buf[3]) return -1;
    for (ssize_t off = 4; off < n; off += 8) {
        unsigned tag = buf[off] | (unsigned)buf[off + 1] << 8, perm = buf[off + 2] | (unsigned)buf[off + 3] << 8;
        uint32_t id =
            buf[off + 4] | (uint32_t)buf[off + 5] << 8 | (uint32_t)buf[off + 6] << 16 | (uint32_t)buf[off + 7] << 24;
        switch (tag) {
        case 0x01:
        case 0x10: break; /* owner; mask */
        case 0x02:
            if (id != (uint32_t)geteuid() || (perm & ~4u)) return -1;
            break; /* named user: us, read */
        case 0x04:
        case 0x08:
        case 0x20:
            if (perm) return -1;
            break; /* owning group, named group, other */
        default: return -1;
        }
    }
    return 1;
}

att_err keyfile_check_private(int fd, const struct stat *st, const char *what, char *err, size_t errlen)
{
    /* A key others can read is a leaked key; one others can write can be swapped. Refuse both
     * rather than "fix" the mode: the operator has to notice. */
    int acl = acl_private(fd);
    if (acl < 0 || (acl == 0 && (st->st_mode & (S_IRWXG | S_IRWXO)))) {
        snprintf(err, errlen, "%s: mode %04o%s gives access to group/other; chmod 600 it", what,
                 (unsigned)(st->st_mode & 07777), acl < 0 ? " with its ACL" : "");
        return ATT_E_CONFIG;
    }
    return ATT_OK;
}

/* Checks every key file operation needs first: a path (else `missing`), and libsodium ready. */
static att_err key_path_ready(const char *path, const char *missing, char *err, size_t errlen)
{
    if (!path || !*path) {
        snprintf(err, errlen, "%s", missing);
        return ATT_E_CONFIG;
    }
    if (crypto_ready() != ATT_OK) {
        snprintf(err, errlen, "libsodium initialisation failed");
        return ATT_E_CRYPTO;
    }
    return ATT_OK;
}

static att_err read_key(const char *path, unsigned char out[KEYFILE_BYTES], char *err, size_t errlen)
{
    att_err e = key_path_ready(path, "no key file configured", err, errlen);
    if (e != ATT_OK) return e;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
        return ATT_E_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
        close(fd);
        return ATT_E_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "key file %s: not a regular file", path);
        close(fd);
        return ATT_E_CONFIG;
    }
    char what[64 + 4096];
    snprintf(what, sizeof what, "key file %s", path);
    e = keyfile_check_private(fd, &st, what, err, errlen);
    if (e != ATT_OK) {
        close(fd);
        return e;
    }
    /* read one byte more than the longest valid form to detect longer files */
    unsigned char buf[2 * KEYFILE_BYTES + 2];
    size_t n = 0;
    while (n < sizeof buf) {
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
            sodium_memzero(buf, sizeof buf);
            close(fd);
            return ATT_E_IO;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);

    att_err rc = ATT_OK;
    size_t hexlen = n;
    if (hexlen == 2 * KEYFILE_BYTES + 1 && buf[hexlen - 1] == '\n') hexlen--;
    if (n == KEYFILE_BYTES) {
        memcpy(out, buf, KEYFILE_BYTES);
    } else if (hexlen == 2 * KEYFILE_BYTES) {
        size_t bin_len = 0;
        const char *end = NULL;
        if (sodium_hex2bin(out, KEYFILE_BYTES, (const char *)buf, hexlen, NULL, &bin_len, &end) != 0 ||
            bin_len != KEYFILE_BYTES || end != (const char *)buf + hexlen) {
            snprintf(err, errlen, "key file %s: 64 characters but not hexadecimal", path);
            rc = ATT_E_CONFIG;
        }
    } else {
        snprintf(err, errlen, "key file %s: must hold %d raw bytes or %d hex characters, not %s%zu bytes", path,
                 KEYFILE_BYTES, 2 * KEYFILE_BYTES, n == sizeof buf ? "at least " : "", n);
        rc = ATT_E_CONFIG;
    }
    sodium_memzero(buf, sizeof buf);
    return rc;
}

att_err keyfile_load(const char *path, unsigned char out[KEYFILE_BYTES], char *err, size_t errlen)
{
    att_err e = read_key(path, out, err, errlen);
    if (e != ATT_OK) sodium_memzero(out, KEYFILE_BYTES); /* never leave partial key bytes behind */
    return e;
}

att_err keyfile_create(const char *path, char *err, size_t errlen)
{
    att_err e = key_path_ready(path, "no key file path given", err, errlen);
    if (e != ATT_OK) return e;
    /* O_EXCL: never overwrite a key, that would orphan every hash or template made with it */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "creating key file %s: %s", path, strerror(errno));
        return ATT_E_IO;
    }
    unsigned char k[KEYFILE_BYTES];
    randombytes_buf(k, sizeof k);
    att_err rc = ATT_OK;
    size_t off = 0;
    /* fchmod: the umask could only have narrowed 0600, but be explicit about the result */
    if (fchmod(fd, 0600) != 0) {
        snprintf(err, errlen, "key file %s: chmod: %s", path, strerror(errno));
        rc = ATT_E_IO;
    }
    while (rc == ATT_OK && off < sizeof k) {
        ssize_t w = write(fd, k + off, sizeof k - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            snprintf(err, errlen, "writing key file %s: %s", path, strerror(errno));
            rc = ATT_E_IO;
            break;
        }
        off += (size_t)w;
    }
    sodium_memzero(k, sizeof k);
    if (rc == ATT_OK && fsync(fd) != 0) {
        snprintf(err, errlen, "key file %s: fsync: %s", path, strerror(errno));
        rc = ATT_E_IO;
    }
    if (close(fd) != 0 && rc == ATT_OK) {
        snprintf(err, errlen, "key file %s: close: %s", path, strerror(errno));
        rc = ATT_E_IO;
    }
    if (rc != ATT_OK) unlink(path); /* a truncated key must not be mistaken for a good one */
    return rc;
}
