/* Internal to src/gallery: vector normalisation, int8/fp16 encodings and the dot-product kernels,
 * with an AVX2 variant picked at run time and a portable one. Tests include it to compare the two. */
#ifndef ATTENDD_GALLERY_KERNELS_H
#define ATTENDD_GALLERY_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/gallery.h"

/* A query prepared for the int8 scan. */
struct gal_q8 {
    _Alignas(64) int8_t q[GAL_DIM];   /* round(x / scale), in [-127, 127] */
    _Alignas(64) uint8_t qa[GAL_DIM]; /* |q|: the unsigned operand of vpmaddubsw */
    float scale;                      /* max |x| / 127 */
};

struct gal_kernels {
    const char *name; /* "avx2" or "portable" */
    /* out[i] = sum_d q->q[d] * rows[i*GAL_DIM + d], exactly (int32 never overflows: 512*127*127). */
    void (*scan)(const int8_t *rows, size_t n, const struct gal_q8 *q, int32_t *out);
    /* sum_d half_to_float(h[d]) * x[d] in float. */
    float (*dot_f16)(const uint16_t *h, const float *x);
    /* h[d] = x[d] rounded to nearest-even binary16 (identical in both variants). */
    void (*to_f16)(const float *x, uint16_t *h);
};

/* The AVX2+FMA+F16C kernels when the CPU has them and portable is false, else the portable ones. */
const struct gal_kernels *gal_kernels_select(bool portable);

/* out = in / |in|. False (out untouched) if a component is NaN/Inf or the norm is zero. in == out allowed. */
bool gal_normalise(const float *in, float *out);
/* Symmetric per-vector int8 quantisation: out[d] = round(x[d] / *scale), *scale = max|x| / 127. */
void gal_quantise_i8(const float *x, int8_t *out, float *scale);
/* gal_quantise_i8 plus the |q| copy the AVX2 scan needs. */
void gal_q8_prepare(const float *x, struct gal_q8 *q);
/* Scalar binary16 conversions (round to nearest even), shared by the portable kernels and tests. */
uint16_t gal_f32_to_f16(float f);
float gal_f16_to_f32(uint16_t h);

/* Swap the kernels of one gallery (tests and the bench compare the variants). */
void gal_set_kernels(gal *g, const struct gal_kernels *k);

#endif
