// models.cpp: read the five ONNX files once, verify them against the pinned SHA-256 digests, and
// create one thread's networks from those bytes (av_pipeline_new).
#include "internal.hpp"

#include <sodium.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <sys/stat.h>

namespace
{

struct model_spec {
    const char *file;
    const char *sha256; // DESIGN.md section 3
};

const model_spec kModels[AVM__COUNT] = {
    {"fr_detect.onnx", "6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854"},
    {"fr_landmark.onnx", "f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258"},
    {"fr_feature.onnx", "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581"},
    {"fr_liveness.onnx", "afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d"},
    {"fr_pose.onnx", "72d032ec941b7153bf8d3f2c03a4c165453cc7e63d479041ec7c6ef087e5839d"},
};

constexpr size_t kMaxModelBytes = (size_t)64 << 20;

} // namespace

av_status avi::read_model(const std::string &path, std::vector<char> &out, av_err *err)
{
    FILE *f = fopen(path.c_str(), "rb");
    if (!f) return avi::fail(err, AV_E_MODEL, "cannot open model %s: %s", path.c_str(), strerror(errno));
    std::unique_ptr<FILE, int (*)(FILE *)> guard(f, fclose);
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        return avi::fail(err, AV_E_MODEL, "model %s is not a regular file", path.c_str());
    if (st.st_size <= 0 || (size_t)st.st_size > kMaxModelBytes)
        return avi::fail(err, AV_E_MODEL, "model %s has an implausible size (%lld bytes)", path.c_str(),
                         (long long)st.st_size);
    out.resize((size_t)st.st_size);
    if (fread(out.data(), 1, out.size(), f) != out.size())
        return avi::fail(err, AV_E_IO, "cannot read model %s: %s", path.c_str(),
                         ferror(f) ? strerror(errno) : "file shrank while reading");
    return AV_OK;
}

bool avi::sha256_matches(const std::vector<char> &bytes, const char *hex_expected)
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size());
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, d, sizeof d);
    return std::strcmp(hex, hex_expected) == 0;
}

const char *avi::model_file(int id) { return (id >= 0 && id < AVM__COUNT) ? kModels[id].file : "?"; }

extern "C" av_status av_models_load(const char *dir, unsigned flags, av_models **out, av_err *err)
{
    AV_TRY
    {
        if (!dir || !*dir || !out) return avi::fail(err, AV_E_ARG, "av_models_load: dir and out are required");
        *out = nullptr;
        if (sodium_init() < 0) return avi::fail(err, AV_E_INTERNAL, "libsodium failed to initialise");
        std::unique_ptr<av_models> m(new av_models);
        for (int i = 0; i < AVM__COUNT; i++) {
            std::string path = std::string(dir) + "/" + kModels[i].file;
            av_status st = avi::read_model(path, m->bytes[i], err);
            if (st != AV_OK) return st;
            if (!(flags & AV_MODELS_NO_VERIFY) && !avi::sha256_matches(m->bytes[i], kModels[i].sha256))
                return avi::fail(err, AV_E_MODEL, "model %s does not match its pinned SHA-256", path.c_str());
        }
        *out = m.release();
        return avi::ok(err);
    }
    AV_CATCH(err, "av_models_load")
}

extern "C" void av_models_free(av_models *m) { delete m; }

extern "C" av_status av_pipeline_new(const av_models *m, unsigned flags, av_pipeline **out, av_err *err)
{
    AV_TRY
    {
        if (!m || !out) return avi::fail(err, AV_E_ARG, "av_pipeline_new: models and out are required");
        *out = nullptr;
        std::unique_ptr<av_pipeline> p(new av_pipeline);
        struct dw_scope { // the layer choice applies only to nets made in this call
            explicit dw_scope(bool on) { avi::dwconv_enable_for_thread(on); }
            ~dw_scope() { avi::dwconv_enable_for_thread(false); }
        } scope(!(flags & AV_PIPE_STOCK_LAYERS));
        for (int i = 0; i < AVM__COUNT; i++) {
            try {
                p->net[i] = cv::dnn::readNetFromONNX(m->bytes[i].data(), m->bytes[i].size());
            } catch (const cv::Exception &e) {
                return avi::fail(err, AV_E_MODEL, "OpenCV rejected %s: %s", kModels[i].file, e.err.c_str());
            }
            if (p->net[i].empty()) {
                return avi::fail(err, AV_E_MODEL, "OpenCV loaded an empty network from %s", kModels[i].file);
            }
            p->net[i].setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
            p->net[i].setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        }
        p->canvas.create(avi::kDetH, avi::kDetW, CV_8UC3);
        *out = p.release();
        return avi::ok(err);
    }
    AV_CATCH(err, "av_pipeline_new")
}

extern "C" void av_pipeline_free(av_pipeline *p) { delete p; }
