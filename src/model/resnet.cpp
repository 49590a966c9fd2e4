// CIFAR ResNet-20 (He et al. 2016, section 4.2): a 3x3 stem with 16 channels, then three
// stages of three BasicBlocks with 16/32/64 channels, the first block of stages 2 and 3
// downsampling by stride 2.
//
// Shortcuts use option A of the paper (identity; when the shape changes, subsample by the
// stride and zero-pad the new channels), which is what gives the paper's 0.27M parameters
// (269,722 with 10 classes); option B's 1x1 projections would add 2,752.
#include "model/zoo.h"

namespace etuner::model::zoo {

namespace {

namespace nn = torch::nn;
namespace F = torch::nn::functional;
using torch::indexing::None;
using torch::indexing::Slice;

class BasicBlockImpl : public nn::Module {
 public:
  BasicBlockImpl(int in, int out, int stride)
      : conv1_(conv3x3(in, out, stride)),
        bn1_(out),
        conv2_(conv3x3(out, out, 1)),
        bn2_(out),
        stride_(stride),
        pad_channels_(out - in) {
    register_module("conv1", conv1_);
    register_module("bn1", bn1_);
    register_module("conv2", conv2_);
    register_module("bn2", bn2_);
  }

  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::relu(bn1_->forward(conv1_->forward(x)));
    y = bn2_->forward(conv2_->forward(y));
    return torch::relu(y + shortcut(x));
  }

 private:
  static nn::Conv2d conv3x3(int in, int out, int stride) {
    return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
  }

  // Option A: x[:, :, ::s, ::s] matches the strided conv's ceil(H/s) output size; the
  // extra channels are zeros split evenly on both sides, as in the reference CIFAR code.
  torch::Tensor shortcut(const torch::Tensor& x) const {
    if (stride_ == 1 && pad_channels_ == 0) return x;
    auto s = x.index({Slice(), Slice(), Slice(None, None, stride_), Slice(None, None, stride_)});
    const int64_t lo = pad_channels_ / 2, hi = pad_channels_ - lo;
    return F::pad(s, F::PadFuncOptions({0, 0, 0, 0, lo, hi}));
  }

  nn::Conv2d conv1_;
  TallyBatchNorm2d bn1_;
  nn::Conv2d conv2_;
  TallyBatchNorm2d bn2_;
  int stride_;
  int pad_channels_;
};
TORCH_MODULE(BasicBlock);

}  // namespace

// Block 0 = stem + the first residual block; blocks 1..8 = the other eight residual blocks.
ZooUnits resnet20(const InputShape& shape) {
  ZooUnits u;
  auto first = conv_bn_relu(shape.channels, 16);
  first->push_back(BasicBlock(16, 16, 1));
  u.blocks.push_back(first);
  int in = 16;
  for (int width : {16, 32, 64}) {
    for (int k = 0; k < 3; ++k) {
      if (width == 16 && k == 0) continue;  // already in block 0
      const int stride = (k == 0 && width != 16) ? 2 : 1;
      u.blocks.push_back(nn::Sequential(BasicBlock(in, width, stride)));
      in = width;
    }
  }
  u.head = pool_linear_head(64, shape.num_classes);
  return u;
}

}  // namespace etuner::model::zoo
