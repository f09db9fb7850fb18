/* File system path arithmetic that does not touch the file system. */
#ifndef ATTENDD_PATH_H
#define ATTENDD_PATH_H

#include <stddef.h>

/* The directory holding path, into out (outlen bytes, truncated to fit): "/" for an entry of the
 * root, "." for a bare name. The directory to fsync so that creating or renaming path is durable. */
void att_path_parent(const char *path, char *out, size_t outlen);

#endif
