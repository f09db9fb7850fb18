/* Model integrity: SHA-256 of each file in models_dir against the SHA256SUMS shipped beside it. */
#include "attendd/models.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char *const required[] = {"fr_detect.onnx", "fr_landmark.onnx", "fr_feature.onnx",
                                       "fr_liveness.onnx"};

static att_err sha256_file(const char *path, char hex[65], char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return ATT_E_CONFIG;
    }
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) crypto_hash_sha256_update(&st, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        return ATT_E_CONFIG;
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(hex, 65, digest, sizeof digest);
    return ATT_OK;
}

att_err models_verify(const char *dir, char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium initialisation failed");
        return ATT_E_CRYPTO;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/SHA256SUMS", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return ATT_E_CONFIG;
    }
    bool seen[sizeof required / sizeof required[0]] = {0};
    char line[512];
    att_err rc = ATT_OK;
    while (rc == ATT_OK && fgets(line, sizeof line, f)) {
        char want[65], name[256];
        if (sscanf(line, "%64s %255s", want, name) != 2) continue;
        for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
            if (!strcmp(name, required[i])) seen[i] = true;
        char file[1024], got[65];
        snprintf(file, sizeof file, "%s/%s", dir, name);
        rc = sha256_file(file, got, err, errlen);
        if (rc == ATT_OK && strcmp(got, want) != 0) {
            snprintf(err, errlen, "%s: checksum mismatch (expected %s, got %s)", file, want, got);
            rc = ATT_E_CONFIG;
        }
    }
    fclose(f);
    for (size_t i = 0; rc == ATT_OK && i < sizeof required / sizeof required[0]; i++) {
        if (!seen[i]) {
            snprintf(err, errlen, "%s: %s is not listed", path, required[i]);
            rc = ATT_E_CONFIG;
        }
    }
    return rc;
}
