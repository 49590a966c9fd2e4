// script_model OUT CHANNELS CLASSES: writes a small TorchScript model, standing in for a
// user's `torch.jit.script(net).save(OUT)` where Python's torch is not installed (the
// walkthrough's test). Its children are the units etuner tunes: two conv blocks (the second
// pools to features) and a linear head.
#include <torch/script.h>

#include <iostream>
#include <string>

namespace {

torch::jit::Module module(const std::string& cls) {
  torch::jit::Module m("__torch__.walkthrough." + cls);
  m.register_attribute("training", c10::BoolType::get(), true);
  return m;
}

torch::jit::Module conv_block(const std::string& cls, int in, int out, bool pool) {
  auto b = module(cls);
  b.register_parameter("weight", torch::randn({out, in, 3, 3}) * (1.0 / (3 * in)), false);
  b.register_parameter("bias", torch::zeros({out}), false);
  b.define(
      std::string("def forward(self, x):\n"
                  "    y = torch.relu(torch.conv2d(x, self.weight, self.bias, [1, 1], [1, 1]))\n") +
      (pool ? "    return y.mean([2, 3])\n" : "    return y\n"));
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: script_model OUT CHANNELS CLASSES\n";
    return 2;
  }
  const int channels = std::stoi(argv[2]), classes = std::stoi(argv[3]);
  torch::manual_seed(1);
  auto head = module("Head");
  head.register_parameter("weight", torch::randn({classes, 16}) * 0.25, false);
  head.register_parameter("bias", torch::zeros({classes}), false);
  head.define("def forward(self, x):\n    return torch.addmm(self.bias, x, self.weight.t())\n");
  auto net = module("Net");
  net.register_module("features", conv_block("Features", channels, 16, false));
  net.register_module("pool", conv_block("Pool", 16, 16, true));
  net.register_module("head", head);
  net.define(
      "def forward(self, x):\n"
      "    return self.head.forward(self.pool.forward(self.features.forward(x)))\n");
  net.save(argv[1]);
  return 0;
}
