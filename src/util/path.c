/* File system path arithmetic (include/attendd/path.h). */
#include "attendd/path.h"

#include <stdio.h>
#include <string.h>

void att_path_parent(const char *path, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash == out) slash[1] = '\0';
    else if (slash) *slash = '\0';
    else snprintf(out, outlen, ".");
}
