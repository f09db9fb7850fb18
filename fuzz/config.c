/* libFuzzer target: the configuration text parser (cfg_load_buffer, which cfg_load_file uses), a
 * print-and-reload round trip of what it accepts, and cfg_validate (fuzz/drivers.h). */
#include "fuzz/drivers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fz_config(data, size);
    return 0;
}
