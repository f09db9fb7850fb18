/* 32-byte secret key files shared by every keyed feature (API token hashes, template encryption):
 * raw 32 bytes or 64 hex characters, mode 0600 (no group/other access), created with O_EXCL. */
#ifndef ATTENDD_KEYFILE_H
#define ATTENDD_KEYFILE_H

#include <stddef.h>

#include "attendd/errors.h"

#define KEYFILE_BYTES 32

/* Read the key into out. ATT_E_CONFIG for a bad mode, size or encoding, ATT_E_IO when the file
 * cannot be read; err then names the file and the reason, and out is zeroed. */
att_err keyfile_load(const char *path, unsigned char out[KEYFILE_BYTES], char *err, size_t errlen);
/* Create a new random key file (mode 0600, fsync'ed). Refuses to overwrite an existing file. */
att_err keyfile_create(const char *path, char *err, size_t errlen);

#endif
