/* libFuzzer target: query parameter and cursor parsers (pagination cursors, uuids, RFC 3339 times,
 * dates, HH:MM, limit, booleans); the first byte picks the parser (fuzz/drivers.h). */
#include "fuzz/drivers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fz_query(data, size);
    return 0;
}
