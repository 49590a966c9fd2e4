// Small networks: "smallcnn" for Fashion-MNIST-sized inputs and "tiny" for tests.
#include "model/zoo.h"

namespace etuner::model::zoo {

namespace nn = torch::nn;

// Four conv3x3-BN-ReLU blocks (32, 32, 64, 64 channels) with a 2x2 max-pool after blocks 1
// and 3. Each pool sits at the *start* of the following unit (block 2, the head) so every
// conv runs at its unit's output resolution, which keeps profile_flops exact; the price is
// that the activations at boundaries 1|2 and 3|head are cached before pooling (4x larger).
// 28x28 inputs give 28 -> 14 -> 7; anything from 4x4 up works.
ZooUnits smallcnn(const InputShape& shape) {
  ZooUnits u;
  u.blocks.push_back(conv_bn_relu(shape.channels, 32));
  u.blocks.push_back(conv_bn_relu(32, 32));
  auto third = nn::Sequential(nn::MaxPool2d(2));
  third->extend(*conv_bn_relu(32, 64));
  u.blocks.push_back(third);
  u.blocks.push_back(conv_bn_relu(64, 64));
  u.head = nn::Sequential(nn::MaxPool2d(2));
  u.head->extend(*pool_linear_head(64, shape.num_classes));
  return u;
}

// Two conv3x3(8)-BN-ReLU blocks and a pool + linear head: a few hundred parameters.
ZooUnits tiny(const InputShape& shape) {
  ZooUnits u;
  u.blocks.push_back(conv_bn_relu(shape.channels, 8));
  u.blocks.push_back(conv_bn_relu(8, 8));
  u.head = pool_linear_head(8, shape.num_classes);
  return u;
}

}  // namespace etuner::model::zoo
