// MobileNetV2 (Sandler et al. 2018) adapted to 32x32 inputs the way common CIFAR ports do:
// the stem conv has stride 1 instead of 2, and the second bottleneck group (t=6, c=24, n=2)
// has stride 1 instead of 2, so a 32x32 input reaches the last conv at 4x4 (ImageNet's
// 224x224 reaches it at 7x7). Width multiplier 1, no dropout before the classifier.
//
// Inverted residuals follow the paper and torchvision: an identity shortcut only when the
// stride is 1 and the channel count is unchanged (some CIFAR ports add a 1x1 conv shortcut
// otherwise; that is not MobileNetV2).
//
// Units are the bottleneck groups (block 0 = stem + group 1, blocks 1..6 = groups 2..7,
// block 7 = the 1x1 conv to 1280). Per-group units give 8 blocks, comparable to ResNet-20's
// 9, and each group boundary is a place where the channel count changes, so a frozen prefix
// always ends on a group's output rather than inside a run of same-width residuals.
#include "model/zoo.h"

namespace etuner::model::zoo {

namespace {

namespace nn = torch::nn;

nn::Sequential conv_bn_relu6(int in, int out, int kernel, int stride, int groups) {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, kernel)
                                       .stride(stride)
                                       .padding(kernel / 2)
                                       .groups(groups)
                                       .bias(false)),
                        TallyBatchNorm2d(out), nn::ReLU6());
}

class InvertedResidualImpl : public nn::Module {
 public:
  InvertedResidualImpl(int in, int out, int stride, int expand)
      : residual_(stride == 1 && in == out) {
    const int hidden = in * expand;
    nn::Sequential body;
    // Sequentials cannot nest (their templated forward), so layers are spliced in flat.
    if (expand != 1) body->extend(*conv_bn_relu6(in, hidden, 1, 1, 1));
    body->extend(*conv_bn_relu6(hidden, hidden, 3, stride, hidden));  // depthwise
    body->push_back(nn::Conv2d(nn::Conv2dOptions(hidden, out, 1).bias(false)));
    body->push_back(TallyBatchNorm2d(out));  // linear bottleneck: no activation
    body_ = register_module("body", body);
  }

  torch::Tensor forward(const torch::Tensor& x) {
    auto y = body_->forward(x);
    return residual_ ? x + y : y;
  }

 private:
  bool residual_;
  nn::Sequential body_{nullptr};
};
TORCH_MODULE(InvertedResidual);

struct Group {
  int expand, channels, repeats, stride;
};

// The paper's table 2 with group 2's stride set to 1 for 32x32 inputs.
constexpr Group kGroups[] = {{1, 16, 1, 1}, {6, 24, 2, 1},  {6, 32, 3, 2}, {6, 64, 4, 2},
                             {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
constexpr int kStemChannels = 32;
constexpr int kLastChannels = 1280;

void append_group(nn::Sequential& unit, const Group& g, int& in) {
  for (int r = 0; r < g.repeats; ++r) {
    unit->push_back(InvertedResidual(in, g.channels, r == 0 ? g.stride : 1, g.expand));
    in = g.channels;
  }
}

}  // namespace

ZooUnits mobilenetv2(const InputShape& shape) {
  ZooUnits u;
  int in = kStemChannels;
  auto first = conv_bn_relu6(shape.channels, kStemChannels, 3, 1, 1);
  append_group(first, kGroups[0], in);
  u.blocks.push_back(first);
  for (size_t k = 1; k < std::size(kGroups); ++k) {
    nn::Sequential unit;
    append_group(unit, kGroups[k], in);
    u.blocks.push_back(unit);
  }
  u.blocks.push_back(conv_bn_relu6(in, kLastChannels, 1, 1, 1));
  u.head = pool_linear_head(kLastChannels, shape.num_classes);
  return u;
}

}  // namespace etuner::model::zoo
