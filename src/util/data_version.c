/* The data version (include/attendd/data_version.h): an atomic counter, the time of its last bump,
 * and a per-boot random epoch drawn from libsodium on first use. */
#include "attendd/data_version.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>

static atomic_uint_fast64_t version;
static atomic_llong last_modified; /* time_t of the last bump; 0 = never (boot time then) */
static uint64_t epoch;
static time_t boot_time;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
    if (sodium_init() < 0) {
        /* cannot happen after the daemon's own sodium_init; the time still differs per boot */
        epoch = (uint64_t)time(NULL) * 2654435761u;
    } else {
        randombytes_buf(&epoch, sizeof epoch);
    }
    boot_time = time(NULL);
}

void app_data_version_bump(void)
{
    pthread_once(&once, init);
    atomic_store(&last_modified, (long long)time(NULL));
    atomic_fetch_add(&version, 1);
}

uint64_t app_data_version(void) { return atomic_load(&version); }

time_t app_data_last_modified(void)
{
    pthread_once(&once, init);
    long long t = atomic_load(&last_modified);
    return t ? (time_t)t : boot_time;
}

uint64_t app_data_epoch(void)
{
    pthread_once(&once, init);
    return epoch;
}
