// Block models: every zoo network against the BlockModel contract, analytic FLOPs, and a
// TorchScript module built in C++ (no Python needed).
#include <gtest/gtest.h>
#include <torch/script.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "etuner/error.h"
#include "etuner/model.h"

namespace etuner::model {
namespace {

std::string temp_path(const std::string& stem) {
  return ::testing::TempDir() + "etuner_test_model_" + std::to_string(::getpid()) + "_" + stem;
}

struct ZooCase {
  std::string name;
  InputShape shape;
  int blocks;
  int64_t params;  // the number stated in docs/models.md
};

void PrintTo(const ZooCase& c, std::ostream* os) { *os << c.name; }

torch::Tensor input_for(const InputShape& s, int batch = 2) {
  return torch::randn({batch, s.channels, s.height, s.width});
}

int64_t count(const std::vector<torch::Tensor>& ts) {
  int64_t n = 0;
  for (const auto& t : ts) n += t.numel();
  return n;
}

std::vector<torch::Tensor> snapshot(const std::vector<torch::Tensor>& ts) {
  std::vector<torch::Tensor> out;
  for (const auto& t : ts) out.push_back(t.detach().clone());
  return out;
}

bool all_equal(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k)
    if (!torch::equal(a[k], b[k])) return false;
  return true;
}

void perturb(BlockModel& m) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters()) p.add_(0.5);
}

class ZooTest : public ::testing::TestWithParam<ZooCase> {
 protected:
  void SetUp() override {
    torch::manual_seed(7);
    m_ = make(GetParam().name, GetParam().shape);
    m_->set_training(false);
    x_ = input_for(GetParam().shape);
  }
  std::unique_ptr<BlockModel> m_;
  torch::Tensor x_;
};

TEST_P(ZooTest, ShapeBlocksAndParameterCount) {
  const auto& c = GetParam();
  EXPECT_EQ(m_->name(), c.name);
  EXPECT_EQ(m_->num_blocks(), c.blocks);
  EXPECT_EQ(m_->num_units(), c.blocks + 1);
  EXPECT_EQ(count(m_->parameters()), c.params);
  auto y = m_->forward(x_);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, c.shape.num_classes}));
}

// What `eata` trains: each unit's BatchNorm weight and bias, a subset of its parameters.
TEST_P(ZooTest, NormParametersAreTheBatchNormAffineOnes) {
  for (int u = 0; u < m_->num_units(); ++u) {
    const auto norm = m_->unit_norm_parameters(u);
    EXPECT_EQ(norm.size() % 2, 0u);
    for (const auto& p : norm) {
      EXPECT_EQ(p.dim(), 1);
      const auto all = m_->unit_parameters(u);
      EXPECT_TRUE(std::any_of(all.begin(), all.end(),
                              [&](const torch::Tensor& q) { return q.is_same(p); }));
    }
  }
  if (GetParam().name == "tiny") {  // conv-BN-ReLU(8) twice, then a linear head
    EXPECT_EQ(m_->unit_norm_parameters(0).size(), 2u);
    EXPECT_EQ(m_->unit_norm_parameters(1).size(), 2u);
    EXPECT_EQ(m_->unit_norm_parameters(2).size(), 0u);
    EXPECT_EQ(count(m_->norm_parameters()), 32);
  }
}

TEST_P(ZooTest, SplitForwardIsExact) {
  torch::NoGradGuard no_grad;
  auto full = m_->forward(x_);
  for (int k = 0; k <= m_->num_units(); ++k) {
    auto h = m_->forward_range(0, k, x_);
    EXPECT_TRUE(torch::equal(m_->forward_range(k, m_->num_units(), h), full)) << "split " << k;
  }
}

TEST_P(ZooTest, SameSeedSameWeights) {
  torch::manual_seed(7);
  auto again = make(GetParam().name, GetParam().shape);
  EXPECT_TRUE(all_equal(again->parameters(), m_->parameters()));
}

void freeze_unit(BlockModel& m, int i) {
  for (auto& p : m.unit_parameters(i)) p.requires_grad_(false);
}

bool unit_requires_grad(BlockModel& m, int i) {
  auto ps = m.unit_parameters(i);
  return std::all_of(ps.begin(), ps.end(), [](const auto& p) { return p.requires_grad(); });
}

TEST_P(ZooTest, CloneIsDeepAndKeepsModes) {
  torch::NoGradGuard no_grad;
  m_->set_unit_training(0, true);
  freeze_unit(*m_, 1);
  auto c = m_->clone();
  EXPECT_EQ(c->name(), m_->name());
  EXPECT_TRUE(unit_requires_grad(*c, 0));
  EXPECT_FALSE(unit_requires_grad(*c, 1));
  // Unit 0 trains in both: both update their statistics the same way.
  EXPECT_TRUE(torch::equal(c->forward(x_), m_->forward(x_)));
  EXPECT_TRUE(all_equal(c->unit_buffers(0), m_->unit_buffers(0)));
  torch::manual_seed(11);
  m_->clone();
  auto after_clone = torch::rand({4});
  torch::manual_seed(11);
  EXPECT_TRUE(torch::equal(torch::rand({4}), after_clone)) << "clone() used the global RNG";
  auto params = snapshot(m_->parameters());
  perturb(*c);
  EXPECT_FALSE(torch::equal(c->forward(x_), m_->forward(x_)));
  EXPECT_TRUE(all_equal(m_->parameters(), params));
}

TEST_P(ZooTest, SaveLoadRoundTripIsBitIdentical) {
  const std::string path = temp_path(GetParam().name + ".pt");
  torch::NoGradGuard no_grad;
  m_->set_training(true);
  m_->forward(x_);  // moves BN running statistics away from their initial values
  m_->set_training(false);
  auto expected = m_->forward(x_);
  m_->save(path);
  auto other = make(GetParam().name, GetParam().shape);
  other->set_training(false);
  other->load(path);
  std::remove(path.c_str());
  EXPECT_TRUE(torch::equal(other->forward(x_), expected));
  EXPECT_TRUE(all_equal(other->unit_buffers(0), m_->unit_buffers(0)));
}

TEST_P(ZooTest, CopyFromCopiesParametersAndBuffers) {
  torch::NoGradGuard no_grad;
  auto other = make(GetParam().name, GetParam().shape);
  other->set_training(true);
  other->forward(x_);
  other->set_training(false);
  perturb(*other);
  m_->copy_from(*other);
  EXPECT_TRUE(all_equal(m_->parameters(), other->parameters()));
  EXPECT_TRUE(torch::equal(m_->forward(x_), other->forward(x_)));
}

// BatchNorm updates its running statistics only in training mode, so the buffers show
// which units are training.
TEST_P(ZooTest, SetUnitTrainingAffectsOnlyThatUnit) {
  torch::NoGradGuard no_grad;
  const int k = m_->num_blocks() / 2;
  m_->set_unit_training(k, true);
  std::vector<std::vector<torch::Tensor>> before;
  for (int i = 0; i < m_->num_units(); ++i) before.push_back(snapshot(m_->unit_buffers(i)));
  m_->forward(x_);
  for (int i = 0; i < m_->num_units(); ++i) {
    if (m_->unit_buffers(i).empty()) continue;  // the head has no BatchNorm
    EXPECT_EQ(all_equal(m_->unit_buffers(i), before[i]), i != k) << "unit " << i;
  }
}

TEST_P(ZooTest, ProfileFlopsLeavesModelUntouched) {
  m_->set_unit_training(0, true);
  auto before = snapshot(m_->unit_buffers(0));
  auto p = profile_flops(*m_, input_for(GetParam().shape, 1));
  ASSERT_EQ(static_cast<int>(p.unit_forward_flops.size()), m_->num_units());
  EXPECT_TRUE(all_equal(m_->unit_buffers(0), before));
  torch::NoGradGuard no_grad;
  m_->forward(x_);  // unit 0 is still training: its statistics move
  EXPECT_FALSE(all_equal(m_->unit_buffers(0), before));
}

// Parameter counts: resnet20 = 267,696 conv + 1,376 BN + 650 linear (option A shortcuts);
// mobilenetv2 matches torchvision's mobilenet_v2(num_classes=10); smallcnn (1 channel) =
// 64,800 conv + 384 BN + 650 linear; tiny (1 channel, 5 classes) = 72 + 576 conv + 32 BN +
// 45 linear.
INSTANTIATE_TEST_SUITE_P(Zoo, ZooTest,
                         ::testing::Values(ZooCase{"resnet20", {3, 32, 32, 10}, 9, 269722},
                                           ZooCase{"mobilenetv2", {3, 32, 32, 10}, 8, 2236682},
                                           ZooCase{"smallcnn", {1, 28, 28, 10}, 4, 65834},
                                           ZooCase{"tiny", {1, 12, 12, 5}, 2, 725}),
                         [](const auto& info) { return info.param.name; });

TEST(Zoo, NamesAndErrors) {
  const std::vector<std::string> names{"resnet20", "mobilenetv2", "smallcnn", "tiny"};
  EXPECT_EQ(zoo_names(), names);
  try {
    make("resnet21", {});
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("resnet20, mobilenetv2, smallcnn, tiny"),
              std::string::npos);
  }
  EXPECT_THROW(make("smallcnn", {1, 2, 28, 10}), ConfigError);
  EXPECT_THROW(make("tiny", {1, 8, 8, 0}), ConfigError);
}

TEST(Zoo, RangeAndArchitectureErrors) {
  auto m = make("tiny", {1, 8, 8, 5});
  auto x = torch::randn({2, 1, 8, 8});
  EXPECT_THROW(m->forward_range(2, 1, x), ModelError);
  EXPECT_THROW(m->forward_range(0, 4, x), ModelError);
  EXPECT_THROW(m->forward_unit(3, x), ModelError);
  EXPECT_THROW(m->forward(torch::randn({2, 3, 8, 8})), ModelError);  // wrong channel count
  auto other_classes = make("tiny", {1, 8, 8, 3});
  EXPECT_THROW(m->copy_from(*other_classes), ModelError);
  auto other_net = make("smallcnn", {1, 8, 8, 5});
  EXPECT_THROW(m->copy_from(*other_net), ModelError);
}

TEST(Zoo, LoadRejectsMismatchedFiles) {
  auto m = make("tiny", {1, 8, 8, 5});
  EXPECT_THROW(m->load(temp_path("missing.pt")), ModelError);
  const std::string path = temp_path("tiny3.pt");
  make("tiny", {1, 8, 8, 3})->save(path);
  auto before = snapshot(m->parameters());
  try {
    m->load(path);
    FAIL() << "no exception";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("head.2.weight"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(all_equal(m->parameters(), before));  // nothing was half-loaded
  make("smallcnn", {1, 8, 8, 5})->save(path);
  EXPECT_THROW(m->load(path), ModelError);
  std::remove(path.c_str());
}

// tiny on [1,1,12,12] with 5 classes: every conv runs at 12x12.
TEST(Flops, TinyIsAnalytic) {
  auto m = make("tiny", {1, 12, 12, 5});
  auto p = profile_flops(*m, torch::randn({1, 1, 12, 12}));
  ASSERT_EQ(p.unit_forward_flops.size(), 3u);
  EXPECT_EQ(p.unit_forward_flops[0], 2.0 * (8 * 1 * 9) * 144);
  EXPECT_EQ(p.unit_forward_flops[1], 2.0 * (8 * 8 * 9) * 144);
  EXPECT_EQ(p.unit_forward_flops[2], 2.0 * (5 * 8));
  EXPECT_EQ(p.total(), p.range(0, 3));
  EXPECT_EQ(p.range(1, 3), p.unit_forward_flops[1] + p.unit_forward_flops[2]);
  EXPECT_EQ(p.range(2, 2), 0.0);
  EXPECT_THROW(p.range(2, 4), ModelError);
}

// 40,551,040 multiply-accumulates (the paper's "41M"): stem 432x32x32, stage 1 13,824x32x32,
// stage 2 (4,608 + 5x9,216)x16x16, stage 3 (18,432 + 5x36,864)x8x8, linear 640.
TEST(Flops, ResNet20Total) {
  auto m = make("resnet20", {3, 32, 32, 10});
  auto p = profile_flops(*m, torch::randn({1, 3, 32, 32}));
  EXPECT_EQ(p.total(), 2.0 * 40551040);
  EXPECT_EQ(p.unit_forward_flops[0], 2.0 * (432 + 2 * 2304) * 1024);
}

// Block 2 (group 3, 24 -> 32, stride 2): the first expansion conv runs at 32x32, everything
// after the stride-2 depthwise conv at 16x16.
TEST(Flops, MobileNetV2ExpansionBeforeStride) {
  auto m = make("mobilenetv2", {3, 32, 32, 10});
  auto p = profile_flops(*m, torch::randn({1, 3, 32, 32}));
  const double first = 24 * 144 * 1024.0 + (144 * 9 + 144 * 32) * 256.0;
  const double others = 2 * (32 * 192 + 192 * 9 + 192 * 32) * 256.0;
  EXPECT_EQ(p.unit_forward_flops[2], 2.0 * (first + others));
  EXPECT_EQ(p.unit_forward_flops[8], 2.0 * 1280 * 10);
}

TEST(Flops, SmallCnnTotal) {
  auto m = make("smallcnn", {1, 28, 28, 10});
  auto p = profile_flops(*m, torch::randn({1, 1, 28, 28}));
  EXPECT_EQ(p.total(), 2.0 * ((288 + 9216) * 784 + (18432 + 36864) * 196 + 640));
}

// A scripted model built in C++: two blocks (relu(x * w), counting training-mode calls in a
// buffer, like BatchNorm's statistics) and a matmul head that relies on the flatten rule.
// Modules scripted in Python carry a `training` attribute; built in C++ they must add it.
torch::jit::Module script_module(const std::string& cls) {
  torch::jit::Module m("__torch__.etuner_test." + cls);
  m.register_attribute("training", c10::BoolType::get(), true);
  return m;
}

torch::jit::Module scripted_block(const std::string& cls, int channels) {
  auto b = script_module(cls);
  b.register_parameter("w", (torch::rand({channels, 1, 1}) + 0.5).requires_grad_(), false);
  b.register_buffer("calls", torch::zeros({1}));
  b.define(R"(
def forward(self, x):
    if self.training:
        self.calls.add_(1.0)
    return torch.relu(x * self.w)
)");
  return b;
}

torch::jit::Module scripted_model(int channels, int features, int classes) {
  auto head = script_module("Head");
  head.register_parameter("weight", torch::randn({classes, features}).requires_grad_(), false);
  head.define("def forward(self, x):\n    return torch.matmul(x, self.weight.t())\n");
  auto m = script_module("Net");
  m.register_module("b0", scripted_block("Block0", channels));
  m.register_module("b1", scripted_block("Block1", channels));
  m.register_module("head", head);
  // Source defined from C++ calls submodules' forward explicitly (no ModuleValue sugar).
  m.define(R"(
def forward(self, x):
    return self.head.forward(self.b1.forward(self.b0.forward(x)).flatten(1))
)");
  return m;
}

class ScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(3);
    module_ = scripted_model(3, 12, 5);
    module_.save(path_);
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_ = temp_path("script.pt");
  torch::jit::Module module_{c10::QualifiedName("__torch__.etuner_test.Unset")};
  torch::Tensor x_ = torch::randn({2, 3, 2, 2});
};

TEST_F(ScriptTest, UnitsForwardAndFlattenRule) {
  auto m = load_torchscript(path_);
  EXPECT_EQ(m->num_blocks(), 2);
  EXPECT_EQ(count(m->parameters()), 3 + 3 + 60);
  EXPECT_EQ(m->unit_buffers(1).size(), 1u);
  auto expected = module_.forward({x_}).toTensor();
  EXPECT_TRUE(torch::allclose(m->forward(x_), expected));
  auto h = m->forward_range(0, 2, x_);
  EXPECT_EQ(h.sizes(), x_.sizes());
  EXPECT_TRUE(torch::equal(m->forward_range(2, 3, h), m->forward(x_)));
  EXPECT_EQ(m->forward_unit(2, h.flatten(1)).sizes(), (std::vector<int64_t>{2, 5}));
}

// A scripted BatchNorm is found by its class name; the blocks' own weights are not norms.
TEST_F(ScriptTest, NormParametersAreFoundByTheBatchNormClassName) {
  auto bn = script_module("BatchNorm2d");
  bn.register_parameter("weight", torch::ones({3}), false);
  bn.register_parameter("bias", torch::zeros({3}), false);
  bn.define("def forward(self, x):\n    return x * self.weight.view(1, -1, 1, 1)\n");
  auto net = scripted_model(3, 12, 5);
  net.attr("b0").toModule().register_module("bn", bn);
  const auto path = temp_path("script-bn.pt");
  net.save(path);
  auto m = load_torchscript(path);
  std::remove(path.c_str());
  ASSERT_EQ(m->unit_norm_parameters(0).size(), 2u);
  EXPECT_EQ(m->unit_norm_parameters(0)[0].numel(), 3);
  EXPECT_TRUE(m->unit_norm_parameters(1).empty());
  EXPECT_TRUE(m->unit_norm_parameters(2).empty());
}

// A head with children pools and flattens for itself: its input is passed unchanged.
TEST_F(ScriptTest, HeadWithChildrenIsNotFlattened) {
  auto fc = script_module("Fc");
  fc.register_parameter("weight", torch::randn({5, 3}), false);
  fc.define("def forward(self, x):\n    return torch.matmul(x, self.weight.t())\n");
  auto head = script_module("PoolHead");
  head.register_module("fc", fc);
  head.define("def forward(self, x):\n    return self.fc.forward(x.mean([2, 3]))\n");
  auto net = script_module("PoolNet");
  net.register_module("b0", scripted_block("PoolBlock", 3));
  net.register_module("head", head);
  net.save(path_);
  auto m = load_torchscript(path_);
  auto pooled = m->forward_unit(0, x_).mean({2, 3});
  auto expected = torch::matmul(pooled, fc.attr("weight").toTensor().t());
  EXPECT_TRUE(torch::allclose(m->forward(x_), expected));
}

TEST_F(ScriptTest, SetUnitTrainingAffectsOnlyThatUnit) {
  auto m = load_torchscript(path_);
  m->set_training(false);
  m->set_unit_training(1, true);
  m->forward(x_);
  EXPECT_EQ(m->unit_buffers(0)[0].item<float>(), 0.0f);
  EXPECT_EQ(m->unit_buffers(1)[0].item<float>(), 1.0f);
}

TEST_F(ScriptTest, CloneIsDeepAndSaveRoundTrips) {
  auto m = load_torchscript(path_);
  auto before = m->forward(x_);
  freeze_unit(*m, 1);
  auto c = m->clone();
  for (const auto& p : c->parameters()) EXPECT_TRUE(p.is_leaf());  // an optimizer takes them
  EXPECT_TRUE(unit_requires_grad(*c, 0));
  EXPECT_FALSE(unit_requires_grad(*c, 1));
  perturb(*c);
  EXPECT_TRUE(torch::equal(m->forward(x_), before));
  EXPECT_FALSE(torch::equal(c->forward(x_), before));
  const std::string copy_path = temp_path("script_copy.pt");
  c->save(copy_path);
  auto reloaded = load_torchscript(copy_path);
  EXPECT_TRUE(torch::equal(reloaded->forward(x_), c->forward(x_)));
  m->load(copy_path);
  EXPECT_TRUE(torch::equal(m->forward(x_), c->forward(x_)));
  m->copy_from(*load_torchscript(path_));
  EXPECT_TRUE(torch::equal(m->forward(x_), before));
  std::remove(copy_path.c_str());
}

TEST_F(ScriptTest, Errors) {
  EXPECT_THROW(load_torchscript(temp_path("missing.pt")), ModelError);
  const std::string bad = temp_path("bad.pt");
  { std::ofstream(bad) << "not a zip file"; }
  EXPECT_THROW(load_torchscript(bad), ModelError);
  auto lonely = script_module("Lonely");
  lonely.register_module("only", scripted_block("Only", 3));
  lonely.save(bad);
  try {
    load_torchscript(bad);
    FAIL() << "no exception";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
  auto m = load_torchscript(path_);
  EXPECT_THROW(m->load(bad), ModelError);  // other children
  std::remove(bad.c_str());
}

// TorchScript is recognised by what the file holds: any name works, and a zip that is not
// TorchScript (Python's torch.save format, which pickle_save writes) or another file does not.
TEST_F(ScriptTest, DetectedByContentNotSuffix) {
  const std::string renamed = temp_path("script.model");
  module_.save(renamed);
  EXPECT_TRUE(is_torchscript_file(renamed));
  EXPECT_TRUE(is_torchscript_file(path_));
  const std::string pickled = temp_path("state.pt");
  {
    const auto bytes = torch::pickle_save(torch::ones({2}));
    std::ofstream(pickled, std::ios::binary).write(bytes.data(), bytes.size());
  }
  EXPECT_FALSE(is_torchscript_file(pickled));
  { std::ofstream(pickled) << "PK\x03\x04 but no archive"; }
  EXPECT_FALSE(is_torchscript_file(pickled));
  EXPECT_FALSE(is_torchscript_file(temp_path("missing.pt")));
  EXPECT_EQ(load_torchscript(renamed)->num_blocks(), 2);
  std::remove(renamed.c_str());
  std::remove(pickled.c_str());
}

TEST_F(ScriptTest, OutputWidthIsCheckedAgainstTheClasses) {
  auto m = load_torchscript(path_);
  EXPECT_NO_THROW(check_output_width(*m, {3, 2, 2, 5}));
  try {
    check_output_width(*m, {3, 2, 2, 10});
    FAIL() << "no exception";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("10 classes"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[1, 5]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(check_output_width(*m, {4, 2, 2, 5}), ModelError);  // 4 channels, w has 3
}

TEST_F(ScriptTest, NormalizationGoesInFrontOfUnitZero) {
  auto plain = load_torchscript(path_);
  auto m = with_normalization(load_torchscript(path_), {0.5, 0.25, 0}, {2, 4, 0.5});
  const auto mean = torch::tensor({0.5f, 0.25f, 0.f}).view({1, 3, 1, 1});
  const auto sd = torch::tensor({2.f, 4.f, 0.5f}).view({1, 3, 1, 1});
  EXPECT_TRUE(torch::allclose(m->forward(x_), plain->forward((x_ - mean) / sd)));
  EXPECT_TRUE(torch::equal(m->forward_range(1, 3, x_), plain->forward_range(1, 3, x_)));
  EXPECT_TRUE(torch::allclose(m->clone()->forward(x_), m->forward(x_)));
  const std::string saved = temp_path("normalized.pt");
  m->save(saved);  // the user's model alone: loading it gives the plain model back
  EXPECT_TRUE(torch::allclose(load_torchscript(saved)->forward(x_), plain->forward(x_)));
  std::remove(saved.c_str());
  EXPECT_THROW(with_normalization(load_torchscript(path_), {0.5}, {1, 2}), ConfigError);
  EXPECT_THROW(with_normalization(load_torchscript(path_), {0.5}, {0}), ConfigError);
}

}  // namespace
}  // namespace etuner::model

namespace etuner::model {
namespace {

// A full disk while saving: LibTorch's file writer threw from a destructor (std::terminate);
// the model is now serialized in memory and the write's failure is a ModelError. The file
// size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes every write past 1 KiB fail as ENOSPC
// would; it runs in a death-test child so the limit ends with it.
TEST(ModelSave, FullDiskIsAModelErrorNotAnAbort) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string path = ::testing::TempDir() + "/etuner-full-disk-model.pt";
  const auto save_past_the_limit = [&path] {
    auto m = make("tiny", {1, 12, 12, 10});
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit lim{1024, 1024};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    try {
      m->save(path);
    } catch (const ModelError& e) {
      std::exit(std::string(e.what()).find("File too large") != std::string::npos ? 0 : 3);
    }
    std::exit(4);
  };
  EXPECT_EXIT(save_past_the_limit(), ::testing::ExitedWithCode(0), "");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));  // the partial file is gone
}

}  // namespace
}  // namespace etuner::model
