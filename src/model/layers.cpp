// Layers shared by the zoo networks, and their initialization.
#include "model/zoo.h"

namespace etuner::model::zoo {

namespace nn = torch::nn;

TallyBatchNorm2dImpl::TallyBatchNorm2dImpl(int64_t features) : features_(features) { reset(); }

// nn::BatchNorm2d's registration order: weight, bias, then the three buffers.
void TallyBatchNorm2dImpl::reset() {
  weight = register_parameter("weight", torch::ones({features_}));
  bias = register_parameter("bias", torch::zeros({features_}));
  running_mean = register_buffer("running_mean", torch::zeros({features_}));
  running_var = register_buffer("running_var", torch::ones({features_}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(int64_t{0}));
  tally_.reset();
}

BatchNormTally& TallyBatchNorm2dImpl::tally() {
  tally_.running_mean = running_mean;  // to() may have replaced the buffers
  tally_.running_var = running_var;
  return tally_;
}

// Sums in double: a chunk's sum of squares over every pixel loses digits in float.
torch::Tensor TallyBatchNorm2dImpl::forward(const torch::Tensor& x) {
  constexpr double kMomentum = 0.1, kEps = 1e-5;
  if (is_training()) {
    num_batches_tracked.add_(1);
  } else if (tallying_) {
    torch::NoGradGuard no_grad;
    const auto xd = x.to(torch::kDouble);
    const auto s = xd.sum({0, 2, 3}), sq = xd.square().sum({0, 2, 3});
    tally_.sum = tally_.sum.defined() ? tally_.sum + s : s;
    tally_.sum_sq = tally_.sum_sq.defined() ? tally_.sum_sq + sq : sq;
    tally_.count += x.numel() / x.size(1);
  }
  namespace F = torch::nn::functional;
  return F::batch_norm(x, running_mean, running_var,
                       F::BatchNormFuncOptions()
                           .weight(weight)
                           .bias(bias)
                           .training(is_training())
                           .momentum(kMomentum)
                           .eps(kEps));
}

nn::Sequential conv_bn_relu(int in, int out, int stride) {
  return nn::Sequential(
      nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)),
      TallyBatchNorm2d(out), nn::ReLU());
}

nn::Sequential pool_linear_head(int in, int num_classes) {
  return nn::Sequential(nn::AdaptiveAvgPool2d(1), nn::Flatten(), nn::Linear(in, num_classes));
}

void init_convs(nn::Module& root) {
  for (auto& m : root.modules()) {
    if (auto* conv = m->as<nn::Conv2d>())
      nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
  }
}

}  // namespace etuner::model::zoo
