// Embedding etuner: a model answers requests while it fine-tunes on a labeled stream, under
// the `etuner` policy. The data: Fashion-MNIST (Debian's dataset-fashion-mnist); the model
// starts untrained, so the accuracy of the later requests shows it adapting.
//
//   cmake -S examples -B E -DCMAKE_PREFIX_PATH=<where etuner is installed>
//   cmake --build E && E/embed
#include <etuner/data.h>
#include <etuner/device_profile.h>
#include <etuner/meter.h>
#include <etuner/model.h>
#include <etuner/presets.h>
#include <etuner/runtime.h>

#include <cstdio>
#include <exception>

using namespace etuner;
using torch::indexing::Slice;

int main() try {
  constexpr int kBatches = 24, kBatch = 32;  // labeled samples arrive 32 at a time, 10 s apart
  torch::manual_seed(1);
  const auto fmnist = data::load("fashion-mnist", "");  // "" = the default root
  runtime::RuntimeConfig cfg;
  cfg.profile = device_profile("cpu-2core");
  cfg.train.epochs_per_round = 1;
  cfg.train.lr = 0.1;
  cfg.train.replay_samples = 64;
  runtime::Runtime rt(model::make("smallcnn", {1, 28, 28, 10}), policy::make("etuner"), cfg,
                      meter::make_modeled(cfg.profile));

  int64_t correct[2] = {0, 0};  // requests answered right in the first and second half
  for (int b = 0; b < kBatches; ++b) {
    const double now_s = 10.0 * b;
    const auto rows = Slice(b * kBatch, (b + 1) * kBatch);
    // Requests first (test-then-train): the deployed version answers data it never saw.
    const auto p = rt.predict(data::to_float(fmnist.test.images.index({rows})));
    correct[2 * b / kBatches] +=
        p.labels.eq(fmnist.test.labels.index({rows})).sum().item<int64_t>();
    rt.add_labeled(data::to_float(fmnist.train.images.index({rows})),
                   fmnist.train.labels.index({rows}), now_s);
    rt.advance(now_s);  // the policy decides whether a fine-tuning round runs now
  }
  const double half = kBatches / 2 * kBatch;
  const auto& t = rt.totals();
  std::printf("accuracy: %.1f%% on the first %d requests, %.1f%% on the last %d\n",
              100 * correct[0] / half, kBatches / 2 * kBatch, 100 * correct[1] / half,
              kBatches / 2 * kBatch);
  std::printf("fine-tuning: %d rounds, %.2f s (%.2f s deciding)\n", t.rounds, t.finetune_s,
              t.decision_s);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "embed: %s\n", e.what());
  return 1;
}
