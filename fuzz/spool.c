/* libFuzzer target: the spool's record reader (spool_record_decode: frame, CRC32C, payload) walked
 * over the input as over a segment file, and the payload codec alone (fuzz/drivers.h). */
#include "fuzz/drivers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fz_spool(data, size);
    return 0;
}
