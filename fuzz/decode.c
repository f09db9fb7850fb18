/* libFuzzer target: av_image_probe and av_image_decode (src/vision/decode.cpp), the structure check
 * with its pixel limit and then OpenCV's imdecode, on arbitrary bytes (fuzz/drivers.h). */
#include "fuzz/drivers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fz_decode(data, size);
    return 0;
}
