/* Locked, undumpable memory for the gallery's templates (see region.h). */
#include "src/gallery/region.h"

#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attendd/log.h"

/* One warning per process: a gallery grows many times and would otherwise repeat it. */
static atomic_flag lock_warned = ATOMIC_FLAG_INIT;

static void warn_unlocked(int err)
{
    if (!atomic_flag_test_and_set(&lock_warned))
        log_warn("gallery",
                 "templates are not in locked memory (mlock: %s); raise LimitMEMLOCK= to keep "
                 "them out of swap",
                 strerror(err));
}

/* Core dumps and fork children must never see templates; failures (old kernels) are not fatal. */
static void protect(struct gal_region *r)
{
    if (madvise(r->base, r->bytes, MADV_DONTDUMP) != 0)
        log_debug("gallery", "madvise(MADV_DONTDUMP): %s", strerror(errno));
#ifdef MADV_WIPEONFORK
    if (madvise(r->base, r->bytes, MADV_WIPEONFORK) != 0)
        log_debug("gallery", "madvise(MADV_WIPEONFORK): %s", strerror(errno));
#endif
}

att_err gal_region_grow(struct gal_region *r, size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (bytes > SIZE_MAX - page) return ATT_E_NOMEM;
    bytes = (bytes + page - 1) / page * page;
    if (bytes <= r->bytes) return ATT_OK;

    if (!r->base) {
        void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return ATT_E_NOMEM;
        r->base = p;
        r->bytes = bytes;
        protect(r);
        r->locked = mlock(r->base, r->bytes) == 0;
        if (!r->locked) warn_unlocked(errno);
        return ATT_OK;
    }

    /* mremap moves page tables, so the old address range holds no copy to wipe. */
    void *p = mremap(r->base, r->bytes, bytes, MREMAP_MAYMOVE);
    if (p == MAP_FAILED && errno == EAGAIN && r->locked) {
        /* a locked mapping may not outgrow RLIMIT_MEMLOCK: carry on unlocked */
        warn_unlocked(EAGAIN);
        munlock(r->base, r->bytes);
        r->locked = false;
        p = mremap(r->base, r->bytes, bytes, MREMAP_MAYMOVE);
    }
    if (p == MAP_FAILED) return ATT_E_NOMEM;
    r->base = p;
    r->bytes = bytes;
    protect(r);
    if (r->locked && mlock(r->base, r->bytes) != 0) {
        warn_unlocked(errno);
        munlock(r->base, r->bytes);
        r->locked = false;
    }
    return ATT_OK;
}

void gal_region_release(struct gal_region *r, size_t used)
{
    if (!r->base) return;
    sodium_memzero(r->base, used < r->bytes ? used : r->bytes);
    if (r->locked) munlock(r->base, r->bytes);
    munmap(r->base, r->bytes);
    r->base = NULL;
    r->bytes = 0;
    r->locked = false;
}
