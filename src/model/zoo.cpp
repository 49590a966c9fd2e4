// The zoo table: name, one-line help, smallest input, builder. Add a network here and
// nowhere else.
#include <algorithm>

#include "etuner/error.h"
#include "model/zoo.h"

namespace etuner::model {

namespace {

struct ZooEntry {
  const char* name;
  const char* help;
  int min_hw;  // smallest input height/width the network's downsampling can take
  ZooUnits (*build)(const InputShape&);
};

constexpr ZooEntry kZoo[] = {
    {"resnet20", "CIFAR ResNet-20, option-A shortcuts, 9 blocks, 0.27M params", 4, zoo::resnet20},
    {"mobilenetv2", "MobileNetV2 for 32x32 (stem and group 2 stride 1), 8 blocks, 2.2M params", 8,
     zoo::mobilenetv2},
    {"smallcnn", "4 conv3x3-BN-ReLU blocks (32,32,64,64) for 28x28x1, 66k params", 4,
     zoo::smallcnn},
    {"tiny", "2 conv3x3(8)-BN-ReLU blocks, for tests", 1, zoo::tiny},
};

const ZooEntry& find_entry(const std::string& name) {
  auto it = std::find_if(std::begin(kZoo), std::end(kZoo),
                         [&](const ZooEntry& e) { return name == e.name; });
  if (it != std::end(kZoo)) return *it;
  std::string valid;
  for (const auto& e : kZoo) valid += (valid.empty() ? "" : ", ") + std::string(e.name);
  throw ConfigError("model '" + name + "': unknown; the zoo has " + valid);
}

void check_shape(const ZooEntry& e, const InputShape& s) {
  auto fail = [&](const std::string& field, int value, const std::string& rule) {
    throw ConfigError("model '" + std::string(e.name) + "': input " + field + " " +
                      std::to_string(value) + " " + rule);
  };
  if (s.channels < 1) fail("channels", s.channels, "must be >= 1");
  if (s.num_classes < 1) fail("num_classes", s.num_classes, "must be >= 1");
  const std::string hw_rule = "must be >= " + std::to_string(e.min_hw);
  if (s.height < e.min_hw) fail("height", s.height, hw_rule);
  if (s.width < e.min_hw) fail("width", s.width, hw_rule);
}

}  // namespace

ZooUnits zoo::make_units(const std::string& name, const InputShape& shape) {
  const ZooEntry& e = find_entry(name);
  check_shape(e, shape);
  ZooUnits u = e.build(shape);
  for (auto& block : u.blocks) zoo::init_convs(*block);
  zoo::init_convs(*u.head);
  return u;
}

std::unique_ptr<BlockModel> make(const std::string& name, const InputShape& shape) {
  return std::make_unique<ZooModel>(name, shape, zoo::make_units(name, shape));
}

std::vector<std::string> zoo_names() {
  std::vector<std::string> names;
  for (const auto& e : kZoo) names.emplace_back(e.name);
  return names;
}

}  // namespace etuner::model
