/* Model files: check the four ONNX files in a directory against its SHA256SUMS before loading. */
#ifndef ATTENDD_MODELS_H
#define ATTENDD_MODELS_H

#include <stdbool.h>
#include <stddef.h>

#include "attendd/errors.h"

/* Verify every file listed in DIR/SHA256SUMS (and that the four fr_*.onnx files are listed).
 * ATT_E_CONFIG with err naming the file on a missing file or checksum mismatch. */
att_err models_verify(const char *dir, char *err, size_t errlen);

#endif
