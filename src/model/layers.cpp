// Layers shared by the zoo networks, and their initialization.
#include "model/zoo.h"

namespace etuner::model::zoo {

namespace nn = torch::nn;

nn::Sequential conv_bn_relu(int in, int out, int stride) {
  return nn::Sequential(
      nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)),
      nn::BatchNorm2d(out), nn::ReLU());
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
