/* Internal to src/gallery: page-granular memory for templates, kept out of core dumps and forked
 * children, mlock'ed where the system allows, grown with mremap (no stale copies) and wiped on release. */
#ifndef ATTENDD_GALLERY_REGION_H
#define ATTENDD_GALLERY_REGION_H

#include <stdbool.h>
#include <stddef.h>

#include "attendd/errors.h"

struct gal_region {
    unsigned char *base; /* page-aligned anonymous mapping; NULL before the first grow */
    size_t bytes;        /* mapped length, a multiple of the page size */
    bool locked;         /* the whole mapping is mlock'ed */
};

/* Make the mapping at least `bytes` long (never shrinks); contents are kept, new bytes are zero.
 * The base address may change. ATT_E_NOMEM if the kernel refuses; the region is unchanged then. */
att_err gal_region_grow(struct gal_region *r, size_t bytes);
/* Wipe the first `used` bytes (sodium_memzero), unlock and unmap; the region is empty afterwards. */
void gal_region_release(struct gal_region *r, size_t used);

#endif
