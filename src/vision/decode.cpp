// decode.cpp: safe image decoding from memory. A bounds-checked parser walks the JPEG segments,
// PNG chunks or WebP header first (signature, declared size, truncation) so that oversized or broken input is
// refused before OpenCV allocates a pixel buffer; only then is the image decoded to BGR.
#include "internal.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <sys/stat.h>

namespace
{

// Read-only cursor over [p, p+n); every read is checked against the end.
struct cursor {
    const uint8_t *p;
    size_t n, pos;
    bool has(size_t k) const { return pos <= n && n - pos >= k; }
    uint8_t u8() { return p[pos++]; }
    uint32_t be16()
    {
        uint32_t v = (uint32_t)p[pos] << 8 | p[pos + 1];
        pos += 2;
        return v;
    }
    uint32_t be32()
    {
        uint32_t v = (uint32_t)p[pos] << 24 | (uint32_t)p[pos + 1] << 16 | (uint32_t)p[pos + 2] << 8 | p[pos + 3];
        pos += 4;
        return v;
    }
};

// max_pixels == 0: no limit (probe only).
av_status check_size(uint32_t w, uint32_t h, uint64_t max_pixels, const char *fmt, av_err *err)
{
    if (w == 0 || h == 0) return avi::fail(err, AV_E_IMG_CORRUPT, "%s header declares a %ux%u image", fmt, w, h);
    if (max_pixels && (uint64_t)w * h > max_pixels)
        return avi::fail(err, AV_E_IMG_TOO_LARGE, "%s header declares %ux%u = %llu pixels, over the limit of %llu", fmt,
                         w, h, (unsigned long long)w * h, (unsigned long long)max_pixels);
    return AV_OK;
}

bool is_sof(uint8_t m) { return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; }

// JPEG: SOI, then marker segments; after each SOS the entropy-coded data runs until the next
// marker that is not a stuffed 0xFF00 or a restart marker. The file must reach EOI.
av_status parse_jpeg(cursor c, uint64_t max_pixels, av_image_info *info, av_err *err)
{
    c.pos = 2; // SOI checked by the caller
    bool have_sof = false;
    unsigned scans = 0;
    for (;;) {
        if (!c.has(1)) return avi::fail(err, AV_E_IMG_TRUNCATED, "JPEG ends before its end-of-image marker");
        if (c.u8() != 0xFF) return avi::fail(err, AV_E_IMG_CORRUPT, "JPEG: expected a marker at byte %zu", c.pos - 1);
        uint8_t m;
        do { // any number of 0xFF fill bytes
            if (!c.has(1)) return avi::fail(err, AV_E_IMG_TRUNCATED, "JPEG ends inside a marker");
            m = c.u8();
        } while (m == 0xFF);
        if (m == 0xD9) { // EOI
            if (!have_sof) return avi::fail(err, AV_E_IMG_CORRUPT, "JPEG has no frame header");
            return AV_OK;
        }
        if (m == 0xD8 || m == 0x00 || (m >= 0xD0 && m <= 0xD7) || m == 0x01)
            return avi::fail(err, AV_E_IMG_CORRUPT, "JPEG: unexpected marker 0x%02X", m);
        if (!c.has(2)) return avi::fail(err, AV_E_IMG_TRUNCATED, "JPEG ends inside a segment length");
        const size_t seg_start = c.pos;
        const uint32_t len = c.be16();
        if (len < 2) return avi::fail(err, AV_E_IMG_CORRUPT, "JPEG: segment 0x%02X has length %u", m, len);
        if (!c.has(len - 2)) return avi::fail(err, AV_E_IMG_TRUNCATED, "JPEG ends inside segment 0x%02X", m);
        if (is_sof(m)) {
            if (len < 8) return avi::fail(err, AV_E_IMG_CORRUPT, "JPEG: frame header too short");
            if (m != 0xC0 && m != 0xC1 && m != 0xC2) // baseline, extended, progressive
                return avi::fail(err, AV_E_IMG_UNSUPPORTED,
                                 "JPEG coding process 0x%02X (lossless/arithmetic) not supported", m);
            c.pos += 1; // sample precision
            const uint32_t h = c.be16(), w = c.be16();
            av_status st = check_size(w, h, max_pixels, "JPEG", err);
            if (st != AV_OK) return st;
            info->format = AV_FMT_JPEG;
            info->width = w;
            info->height = h;
            have_sof = true;
        }
        c.pos = seg_start + len;
        if (m == 0xDA) { // SOS: skip entropy-coded data up to the next real marker
            if (!have_sof) return avi::fail(err, AV_E_IMG_CORRUPT, "JPEG scan before the frame header");
            if (++scans > AV_JPEG_MAX_SCANS)
                return avi::fail(err, AV_E_IMG_UNSUPPORTED, "JPEG has more than %d scans (progressive passes)",
                                 AV_JPEG_MAX_SCANS);
            for (;;) {
                const void *ff = std::memchr(c.p + c.pos, 0xFF, c.n - c.pos);
                if (!ff)
                    return avi::fail(err, AV_E_IMG_TRUNCATED,
                                     "JPEG ends inside compressed data (no end-of-image marker)");
                c.pos = (size_t)(static_cast<const uint8_t *>(ff) - c.p);
                if (!c.has(2))
                    return avi::fail(err, AV_E_IMG_TRUNCATED,
                                     "JPEG ends inside compressed data (no end-of-image marker)");
                const uint8_t nx = c.p[c.pos + 1];
                if (nx == 0x00 || (nx >= 0xD0 && nx <= 0xD7) || nx == 0xFF) {
                    c.pos += (nx == 0xFF) ? 1 : 2;
                    continue;
                }
                break; // a marker: back to the segment loop
            }
        }
    }
}

// PNG: signature, IHDR first, then chunks with lengths inside the file, up to IEND.
av_status parse_png(cursor c, uint64_t max_pixels, av_image_info *info, av_err *err)
{
    c.pos = 8; // signature checked by the caller
    if (!c.has(8 + 13)) return avi::fail(err, AV_E_IMG_TRUNCATED, "PNG ends inside its header");
    const uint32_t ihdr_len = c.be32();
    if (ihdr_len != 13 || std::memcmp(c.p + c.pos, "IHDR", 4) != 0)
        return avi::fail(err, AV_E_IMG_CORRUPT, "PNG does not start with a valid IHDR chunk");
    c.pos += 4;
    const uint32_t w = c.be32(), h = c.be32();
    if (w > 0x7FFFFFFFu || h > 0x7FFFFFFFu)
        return avi::fail(err, AV_E_IMG_CORRUPT, "PNG declares an invalid size %ux%u", w, h);
    av_status st = check_size(w, h, max_pixels, "PNG", err);
    if (st != AV_OK) return st;
    info->format = AV_FMT_PNG;
    info->width = w;
    info->height = h;
    c.pos = 8 + 8 + 13 + 4; // past IHDR's CRC
    bool have_idat = false;
    for (;;) {
        if (!c.has(8)) return avi::fail(err, AV_E_IMG_TRUNCATED, "PNG ends before its IEND chunk");
        const uint32_t len = c.be32();
        char type[5] = {0};
        std::memcpy(type, c.p + c.pos, 4);
        c.pos += 4;
        if (len > 0x7FFFFFFFu) return avi::fail(err, AV_E_IMG_CORRUPT, "PNG chunk %.4s has an invalid length", type);
        if (!c.has((size_t)len + 4)) return avi::fail(err, AV_E_IMG_TRUNCATED, "PNG ends inside chunk %.4s", type);
        c.pos += (size_t)len + 4;
        if (!std::strcmp(type, "IDAT")) have_idat = true;
        else if (!std::strcmp(type, "IEND")) {
            if (!have_idat) return avi::fail(err, AV_E_IMG_CORRUPT, "PNG has no image data");
            return AV_OK;
        }
    }
}

uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

// WebP: RIFF container whose declared size must fit in the buffer; the first chunk (VP8, VP8L
// or VP8X) declares the size. Animated WebP is refused.
av_status parse_webp(cursor c, uint64_t max_pixels, av_image_info *info, av_err *err)
{
    const uint32_t riff = le32(c.p + 4);
    if (riff < 4 + 8 + 10) return avi::fail(err, AV_E_IMG_CORRUPT, "WebP: RIFF size %u is too small", riff);
    if ((uint64_t)riff + 8 > c.n)
        return avi::fail(err, AV_E_IMG_TRUNCATED, "WebP: file has %zu of %llu declared bytes", c.n,
                         (unsigned long long)riff + 8);
    const uint8_t *ch = c.p + 12;
    const uint32_t clen = le32(ch + 4);
    if ((uint64_t)clen + 8 > (uint64_t)riff - 4)
        return avi::fail(err, AV_E_IMG_TRUNCATED, "WebP: first chunk runs past the file");
    const uint8_t *d = ch + 8;
    uint32_t w = 0, h = 0;
    if (!std::memcmp(ch, "VP8 ", 4)) {
        if (clen < 10 || d[3] != 0x9D || d[4] != 0x01 || d[5] != 0x2A)
            return avi::fail(err, AV_E_IMG_CORRUPT, "WebP: bad VP8 frame header");
        w = (d[6] | d[7] << 8) & 0x3FFF;
        h = (d[8] | d[9] << 8) & 0x3FFF;
    } else if (!std::memcmp(ch, "VP8L", 4)) {
        if (clen < 5 || d[0] != 0x2F) return avi::fail(err, AV_E_IMG_CORRUPT, "WebP: bad VP8L header");
        const uint32_t v = le32(d + 1);
        w = (v & 0x3FFF) + 1;
        h = ((v >> 14) & 0x3FFF) + 1;
    } else if (!std::memcmp(ch, "VP8X", 4)) {
        if (clen < 10) return avi::fail(err, AV_E_IMG_CORRUPT, "WebP: bad VP8X header");
        if (d[0] & 0x02) return avi::fail(err, AV_E_IMG_UNSUPPORTED, "animated WebP is not accepted");
        w = ((uint32_t)d[4] | (uint32_t)d[5] << 8 | (uint32_t)d[6] << 16) + 1;
        h = ((uint32_t)d[7] | (uint32_t)d[8] << 8 | (uint32_t)d[9] << 16) + 1;
    } else {
        return avi::fail(err, AV_E_IMG_CORRUPT, "WebP: unknown first chunk");
    }
    av_status st = check_size(w, h, max_pixels, "WebP", err);
    if (st != AV_OK) return st;
    info->format = AV_FMT_WEBP;
    info->width = w;
    info->height = h;
    return AV_OK;
}

av_status probe(const void *buf, size_t len, uint64_t max_pixels, av_image_info *info, av_err *err)
{
    if (!buf || len == 0) return avi::fail(err, AV_E_IMG_EMPTY, "image is empty (0 bytes)");
    const uint8_t *b = static_cast<const uint8_t *>(buf);
    cursor c{b, len, 0};
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return parse_jpeg(c, max_pixels, info, err);
    if (len >= 8 && !std::memcmp(b, png_sig, 8)) return parse_png(c, max_pixels, info, err);
    if (len >= 12 && !std::memcmp(b, "RIFF", 4) && !std::memcmp(b + 8, "WEBP", 4)) {
        if (len < 12 + 8 + 10) return avi::fail(err, AV_E_IMG_TRUNCATED, "WebP ends inside its header");
        return parse_webp(c, max_pixels, info, err);
    }
    static const uint8_t jpeg_sig[3] = {0xFF, 0xD8, 0xFF};
    if ((len < 3 && !std::memcmp(b, jpeg_sig, len)) || (len >= 2 && b[0] == 0xFF && b[1] == 0xD8) ||
        (len < 8 && !std::memcmp(b, png_sig, len)))
        return avi::fail(err, AV_E_IMG_TRUNCATED, "image ends inside its signature");
    const char *other = nullptr;
    if (len >= 6 && (!std::memcmp(b, "GIF87a", 6) || !std::memcmp(b, "GIF89a", 6))) other = "GIF";
    else if (len >= 4 && (!std::memcmp(b, "II*\0", 4) || !std::memcmp(b, "MM\0*", 4))) other = "TIFF";
    else if (len >= 12 && !std::memcmp(b + 4, "ftyp", 4)) other = "HEIF/AVIF";
    else if (len >= 12 && !std::memcmp(b, "\0\0\0\x0CjP  ", 8)) other = "JPEG 2000";
    else if (len >= 26 && b[0] == 'B' && b[1] == 'M' && (b[2] | b[3] << 8 | b[4] << 16 | (uint32_t)b[5] << 24) == len)
        other = "BMP";
    if (other)
        return avi::fail(err, AV_E_IMG_UNSUPPORTED, "%s images are not accepted (JPEG, PNG or WebP only)", other);
    return avi::fail(err, AV_E_IMG_NOT_IMAGE, "not a JPEG, PNG or WebP image (unknown signature)");
}

av_status decode(const void *buf, size_t len, uint64_t max_pixels, av_image **out, av_err *err)
{
    if (!out) return avi::fail(err, AV_E_ARG, "av_image_decode: out is required");
    *out = nullptr;
    if (max_pixels == 0) max_pixels = AV_DEFAULT_MAX_PIXELS;
    if (len > (size_t)INT32_MAX) return avi::fail(err, AV_E_IMG_TOO_LARGE, "image of %zu bytes is too large", len);
    av_image_info info{};
    av_status st = probe(buf, len, max_pixels, &info, err);
    if (st != AV_OK) return st;
    const cv::Mat raw(1, (int)len, CV_8U, const_cast<void *>(buf));
    std::unique_ptr<av_image> img(new av_image);
    img->bgr = cv::imdecode(raw, cv::IMREAD_COLOR);
    if (img->bgr.empty() || img->bgr.type() != CV_8UC3)
        return avi::fail(err, AV_E_IMG_CORRUPT, "%s data could not be decoded",
                         info.format == AV_FMT_JPEG      ? "JPEG"
                             : info.format == AV_FMT_PNG ? "PNG"
                                                         : "WebP");
    const uint64_t got = (uint64_t)img->bgr.cols * img->bgr.rows;
    if (got != (uint64_t)info.width * info.height)
        return avi::fail(err, AV_E_IMG_CORRUPT, "decoded size %dx%d differs from the header's %ux%u", img->bgr.cols,
                         img->bgr.rows, info.width, info.height);
    *out = img.release();
    return AV_OK;
}

av_status check_frame(const uint8_t *bgr, int w, int h, size_t stride, av_image **out, av_err *err)
{
    if (!out) return avi::fail(err, AV_E_ARG, "out is required");
    *out = nullptr;
    if (!bgr || w <= 0 || h <= 0 || w > 32768 || h > 32768 || stride < (size_t)w * 3)
        return avi::fail(err, AV_E_ARG, "invalid BGR frame %dx%d stride %zu", w, h, stride);
    return AV_OK;
}

// A frame's pixels as an image: copied into the image, or wrapped (the caller keeps them alive).
av_status frame_image(const uint8_t *bgr, int w, int h, size_t stride, bool copy, av_image **out, av_err *err)
{
    av_status st = check_frame(bgr, w, h, stride, out, err);
    if (st != AV_OK) return st;
    std::unique_ptr<av_image> img(new av_image);
    cv::Mat view(h, w, CV_8UC3, const_cast<uint8_t *>(bgr), stride);
    if (copy) view.copyTo(img->bgr);
    else img->bgr = view;
    *out = img.release();
    return avi::ok(err);
}

} // namespace

extern "C" av_status av_image_probe(const void *buf, size_t len, av_image_info *info, av_err *err)
{
    AV_TRY
    {
        if (!info) return avi::fail(err, AV_E_ARG, "av_image_probe: info is required");
        *info = av_image_info{};
        av_status st = probe(buf, len, 0, info, err);
        return st == AV_OK ? avi::ok(err) : st;
    }
    AV_CATCH(err, "av_image_probe")
}

extern "C" av_status av_image_decode(const void *buf, size_t len, uint64_t max_pixels, av_image **out, av_err *err)
{
    AV_TRY
    {
        av_status st = decode(buf, len, max_pixels, out, err);
        return st == AV_OK ? avi::ok(err) : st;
    }
    AV_CATCH(err, "av_image_decode")
}

extern "C" av_status av_image_load(const char *path, uint64_t max_pixels, av_image **out, av_err *err)
{
    AV_TRY
    {
        if (!path || !out) return avi::fail(err, AV_E_ARG, "av_image_load: path and out are required");
        *out = nullptr;
        FILE *f = fopen(path, "rb");
        if (!f) return avi::fail(err, AV_E_IO, "cannot open %s: %s", path, strerror(errno));
        std::unique_ptr<FILE, int (*)(FILE *)> guard(f, fclose);
        struct stat st;
        if (fstat(fileno(f), &st) != 0) return avi::fail(err, AV_E_IO, "cannot stat %s: %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode)) return avi::fail(err, AV_E_IO, "%s is not a regular file", path);
        if ((uint64_t)st.st_size > AV_DEFAULT_MAX_FILE_BYTES)
            return avi::fail(err, AV_E_IMG_TOO_LARGE, "%s is %lld bytes, over the limit of %zu", path,
                             (long long)st.st_size, AV_DEFAULT_MAX_FILE_BYTES);
        std::vector<uint8_t> bytes((size_t)st.st_size);
        if (!bytes.empty() && fread(bytes.data(), 1, bytes.size(), f) != bytes.size())
            return avi::fail(err, AV_E_IO, "cannot read %s", path);
        av_status s = decode(bytes.data(), bytes.size(), max_pixels, out, err);
        return s == AV_OK ? avi::ok(err) : s;
    }
    AV_CATCH(err, "av_image_load")
}

extern "C" av_status av_image_from_bgr(const uint8_t *bgr, int w, int h, size_t stride, av_image **out, av_err *err)
{
    AV_TRY { return frame_image(bgr, w, h, stride, true, out, err); }
    AV_CATCH(err, "av_image_from_bgr")
}

extern "C" av_status av_image_wrap_bgr(const uint8_t *bgr, int w, int h, size_t stride, av_image **out, av_err *err)
{
    AV_TRY { return frame_image(bgr, w, h, stride, false, out, err); }
    AV_CATCH(err, "av_image_wrap_bgr")
}

extern "C" av_status av_image_from_video(const char *path, long index, av_image **out, av_err *err)
{
    AV_TRY
    {
        if (!path || !out || index < 0 || index > 10000000)
            return avi::fail(err, AV_E_ARG, "av_image_from_video: bad arguments");
        *out = nullptr;
        cv::VideoCapture cap(path, cv::CAP_FFMPEG);
        if (!cap.isOpened()) return avi::fail(err, AV_E_VIDEO, "cannot open video %s", path);
        cv::Mat frame;
        for (long i = 0; i <= index; i++)
            if (!cap.read(frame))
                return avi::fail(err, AV_E_VIDEO, "video %s has no frame %ld (ended at %ld)", path, index, i);
        if (frame.type() != CV_8UC3) return avi::fail(err, AV_E_VIDEO, "video %s: unexpected frame type", path);
        std::unique_ptr<av_image> img(new av_image);
        img->bgr = frame;
        *out = img.release();
        return avi::ok(err);
    }
    AV_CATCH(err, "av_image_from_video")
}

extern "C" int av_image_width(const av_image *img) { return img ? img->bgr.cols : 0; }
extern "C" int av_image_height(const av_image *img) { return img ? img->bgr.rows : 0; }
extern "C" const uint8_t *av_image_pixels(const av_image *img, size_t *stride)
{
    if (stride) *stride = img ? img->bgr.step[0] : 0;
    return img ? img->bgr.ptr<uint8_t>() : nullptr;
}
extern "C" void av_image_free(av_image *img) { delete img; }
