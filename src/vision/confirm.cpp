// confirm.cpp: the confirming embedding, dlib's face-recognition ResNet on a 150x150 chip aligned
// the way dlib aligns its training faces. The only file that includes dlib; nothing dlib throws
// leaves it (AV_TRY/AV_CATCH on every entry point).
#include "internal.hpp"

#include "attendd/fuse.h"

#include <dlib/dnn.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_processing/shape_predictor.h>
#include <dlib/image_transforms.h>
#include <dlib/opencv/cv_image.h>

#include <sodium.h>

#include <cmath>
#include <memory>
#include <sstream>
#include <string.h>

namespace
{

// The network of dlib's dnn_face_recognition_ex.cpp: a 29-layer ResNet giving 128 values; its
// layers must match the serialised file exactly.
template <template <int, template <typename> class, int, typename> class block, int N, template <typename> class BN,
          typename SUBNET>
using residual = dlib::add_prev1<block<N, BN, 1, dlib::tag1<SUBNET>>>;

template <template <int, template <typename> class, int, typename> class block, int N, template <typename> class BN,
          typename SUBNET>
using residual_down =
    dlib::add_prev2<dlib::avg_pool<2, 2, 2, 2, dlib::skip1<dlib::tag2<block<N, BN, 2, dlib::tag1<SUBNET>>>>>>;

template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<dlib::con<N, 3, 3, 1, 1, dlib::relu<BN<dlib::con<N, 3, 3, stride, stride, SUBNET>>>>>;

template <int N, typename SUBNET> using ares = dlib::relu<residual<block, N, dlib::affine, SUBNET>>;
template <int N, typename SUBNET> using ares_down = dlib::relu<residual_down<block, N, dlib::affine, SUBNET>>;

template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;

using anet_type = dlib::loss_metric<dlib::fc_no_bias<
    128,
    dlib::avg_pool_everything<alevel0<alevel1<alevel2<alevel3<alevel4<dlib::max_pool<
        3, 3, 2, 2, dlib::relu<dlib::affine<dlib::con<32, 7, 7, 2, 2, dlib::input_rgb_image_sized<150>>>>>>>>>>>>>;

constexpr unsigned long kChipSize = 150; // the network's input
constexpr double kChipPadding = 0.25;    // dlib's own training chips

const char *const kResnetSha256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30";
const char *const kSp5Sha256 = "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888";

// Wipes the chips when the scope ends however it ends: they are biometric data.
struct WipeChips {
    std::vector<dlib::matrix<dlib::rgb_pixel>> &v;
    ~WipeChips()
    {
        for (auto &m : v)
            if (m.size()) explicit_bzero(&m(0, 0), (size_t)m.size() * sizeof(dlib::rgb_pixel));
    }
};

} // namespace

struct av_confirm_models {
    std::vector<char> resnet; // the ResNet file, verified
    std::vector<char> sp5;    // the 5-point predictor file, verified; empty unless loaded
};

struct av_confirm_net {
    anet_type net;            // private to one thread at a time
    dlib::shape_predictor sp; // the 5-point predictor; has 0 parts unless loaded
};

extern "C" av_status av_confirm_models_load(const char *dir, unsigned flags, av_confirm_models **out, av_err *err)
{
    AV_TRY
    {
        if (!dir || !*dir || !out) return avi::fail(err, AV_E_ARG, "av_confirm_models_load: dir and out are required");
        *out = nullptr;
        if (sodium_init() < 0) return avi::fail(err, AV_E_INTERNAL, "libsodium failed to initialise");
        std::unique_ptr<av_confirm_models> m(new av_confirm_models);
        struct {
            const char *file, *sha;
            std::vector<char> *bytes;
            bool want;
        } files[2] = {{AV_CONFIRM_MODEL_FILE, kResnetSha256, &m->resnet, true},
                      {AV_CONFIRM_SP5_FILE, kSp5Sha256, &m->sp5, (flags & AV_CONFIRM_LOAD_SP5) != 0}};
        for (auto &f : files) {
            if (!f.want) continue;
            std::string path = std::string(dir) + "/" + f.file;
            av_status st = avi::read_model(path, *f.bytes, err);
            if (st != AV_OK) return st;
            if (!(flags & AV_MODELS_NO_VERIFY) && !avi::sha256_matches(*f.bytes, f.sha))
                return avi::fail(err, AV_E_MODEL, "model %s does not match its pinned SHA-256", path.c_str());
        }
        *out = m.release();
        return avi::ok(err);
    }
    AV_CATCH(err, "av_confirm_models_load")
}

extern "C" void av_confirm_models_free(av_confirm_models *m) { delete m; }

extern "C" av_status av_confirm_net_new(const av_confirm_models *m, av_confirm_net **out, av_err *err)
{
    AV_TRY
    {
        if (!m || !out) return avi::fail(err, AV_E_ARG, "av_confirm_net_new: models and out are required");
        *out = nullptr;
        std::unique_ptr<av_confirm_net> n(new av_confirm_net);
        try {
            std::istringstream in(std::string(m->resnet.data(), m->resnet.size()));
            dlib::deserialize(n->net, in);
            if (!m->sp5.empty()) {
                std::istringstream in5(std::string(m->sp5.data(), m->sp5.size()));
                dlib::deserialize(n->sp, in5);
            }
        } catch (const std::exception &e) {
            return avi::fail(err, AV_E_MODEL, "dlib rejected the confirming model: %.160s", e.what());
        }
        *out = n.release();
        return avi::ok(err);
    }
    AV_CATCH(err, "av_confirm_net_new")
}

extern "C" void av_confirm_net_free(av_confirm_net *n) { delete n; }

extern "C" av_status av_confirm_embed(av_confirm_net *n, const av_image *img, const av_face *face,
                                      av_confirm_align align, float out[AV_CONFIRM_DIM], av_err *err)
{
    AV_TRY
    {
        if (!n || !img || !face || !out)
            return avi::fail(err, AV_E_ARG, "av_confirm_embed: net, image, face and out are required");
        const bool flip = (align & AV_CONFIRM_FLIP) != 0;
        const int how = align & ~AV_CONFIRM_FLIP;
        const av_box &b = face->box;
        const dlib::rectangle rect((long)std::lround(b.x1), (long)std::lround(b.y1), (long)std::lround(b.x2) - 1,
                                   (long)std::lround(b.y2) - 1);
        const dlib::cv_image<dlib::bgr_pixel> view(img->bgr);
        dlib::full_object_detection shape;
        if (how == AV_CONFIRM_ALIGN_LM68) {
            if (!face->has_landmarks) return avi::fail(err, AV_E_ARG, "av_confirm_embed: the face has no landmarks");
            std::vector<dlib::point> parts(AV_N_LANDMARKS);
            for (int i = 0; i < AV_N_LANDMARKS; i++)
                parts[i] = dlib::point((long)std::lround(face->lm68[i].x), (long)std::lround(face->lm68[i].y));
            shape = dlib::full_object_detection(rect, parts);
        } else if (how == AV_CONFIRM_ALIGN_SP5) {
            if (n->sp.num_parts() != 5)
                return avi::fail(err, AV_E_ARG, "av_confirm_embed: the 5-point predictor was not loaded");
            shape = n->sp(view, rect);
        } else {
            return avi::fail(err, AV_E_ARG, "av_confirm_embed: unknown alignment %d", (int)align);
        }
        // the chip, and with flip its mirror image: one batched network run
        std::vector<dlib::matrix<dlib::rgb_pixel>> chips(flip ? 2 : 1);
        WipeChips wipe{chips};
        dlib::extract_image_chip(view, dlib::get_face_chip_details(shape, kChipSize, kChipPadding), chips[0]);
        if (flip) chips[1] = dlib::fliplr(chips[0]);
        std::vector<dlib::matrix<float, 0, 1>> d = n->net(chips);
        double sum[AV_CONFIRM_DIM] = {0};
        for (auto &v : d) {
            if (v.size() != AV_CONFIRM_DIM)
                return avi::fail(err, AV_E_INTERNAL, "confirming net returned %ld values", (long)v.size());
            double ss = 0;
            for (int k = 0; k < AV_CONFIRM_DIM; k++) ss += (double)v(k) * v(k);
            if (!(ss > 1e-12) || !std::isfinite(ss))
                return avi::fail(err, AV_E_INTERNAL, "confirming net returned a null embedding");
            const double inv = 1.0 / std::sqrt(ss);
            for (int k = 0; k < AV_CONFIRM_DIM; k++) sum[k] += v(k) * inv;
            explicit_bzero(&v(0), (size_t)v.size() * sizeof(float));
        }
        double ss = 0;
        for (int k = 0; k < AV_CONFIRM_DIM; k++) ss += sum[k] * sum[k];
        if (!(ss > 1e-12)) return avi::fail(err, AV_E_INTERNAL, "confirming net returned a null embedding");
        const double inv = 1.0 / std::sqrt(ss);
        for (int k = 0; k < AV_CONFIRM_DIM; k++) out[k] = (float)(sum[k] * inv);
        explicit_bzero(sum, sizeof sum);
        return avi::ok(err);
    }
    AV_CATCH(err, "av_confirm_embed")
}

extern "C" float av_confirm_similarity(const float *a, const float *b)
{
    if (!a || !b) return 0.f;
    float s = 0.f;
    for (int k = 0; k < AV_CONFIRM_DIM; k++) s += a[k] * b[k];
    return s;
}

extern "C" float av_fuse_scores(float fr_similarity, float confirm_similarity)
{
    return 0.5f *
        ((fr_similarity - AV_FUSE_FR_MEAN) / AV_FUSE_FR_SD +
         (confirm_similarity - AV_FUSE_CONFIRM_MEAN) / AV_FUSE_CONFIRM_SD);
}
