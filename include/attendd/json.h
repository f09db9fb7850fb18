/* JSON text through jansson with numbers in their shortest exact form ("0.45", not "0.45000000000000001"). */
#ifndef ATTENDD_JSON_H
#define ATTENDD_JSON_H

#include <jansson.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATT_JSON_REAL_TEXT 32 /* longest real text ("-2.2250738585072014e-308") + NUL, with room */

/* The text of j as json_dumps(j, flags) writes it, except that every real is written with the fewest
 * significant digits that read back to the same double, laid out as jansson lays out reals (fixed
 * notation from 1e-4 to below 1e17, ".0" on whole numbers, exponents without '+' or leading zeros).
 * flags: jansson's, without JSON_REAL_PRECISION. NULL for NULL j or when out of memory; free() it. */
char *att_json_dumps(const json_t *j, size_t flags);

/* The shortest exact text of a finite double v, as att_json_dumps writes it. Returns its length. */
size_t att_json_real_text(double v, char out[ATT_JSON_REAL_TEXT]);

/* A real holding the float f: the double nearest to f's shortest decimal, so it prints as the
 * float's shortest form (0.8734567f as 0.8734567). NULL for NaN, infinities or out of memory. */
json_t *att_json_float(float f);

#ifdef __cplusplus
}
#endif

#endif
