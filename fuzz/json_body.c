/* libFuzzer target: the JSON (and multipart) request bodies of every write route, through each
 * handler's own database-free parse function; the first byte picks the route (fuzz/drivers.h). */
#include "fuzz/drivers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fz_json_body(data, size);
    return 0;
}
