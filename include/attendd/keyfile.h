/* 32-byte secret key files shared by every keyed feature (API token hashes, template encryption):
 * raw 32 bytes or 64 hex characters, mode 0600 (no group/other access), created with O_EXCL. */
#ifndef ATTENDD_KEYFILE_H
#define ATTENDD_KEYFILE_H

#include <stddef.h>
#include <sys/stat.h>

#include "attendd/errors.h"

#define KEYFILE_BYTES 32

/* Read the key into out. ATT_E_CONFIG for a bad mode, size or encoding, ATT_E_IO when the file
 * cannot be read; err then names the file and the reason, and out is zeroed. */
att_err keyfile_load(const char *path, unsigned char out[KEYFILE_BYTES], char *err, size_t errlen);
/* Whether the open file fd (st: its fstat) may hold a secret: no group/other permission bits, or a
 * POSIX ACL granting read to this process's user alone (how systemd hands a LoadCredential= file to a
 * service where the file system has ACLs: root-owned 0400 plus user:<service>:r, shown as 0440).
 * ATT_E_CONFIG otherwise, with err "WHAT: mode ... gives access to group/other; chmod 600 it". */
att_err keyfile_check_private(int fd, const struct stat *st, const char *what, char *err, size_t errlen);
/* Create a new random key file (mode 0600, fsync'ed). Refuses to overwrite an existing file. */
att_err keyfile_create(const char *path, char *err, size_t errlen);

#endif
