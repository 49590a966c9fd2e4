// Tuning mechanics: the one place decisions take effect on a model.
//
//   etuner::tuning::apply_plan(model, plan);   // freeze blocks [0, plan.frozen_prefix)
//   auto opt = etuner::tuning::make_optimizer(model, {"sgd", 0.01, 0.9, 5e-4});
//   auto r = etuner::tuning::run_round(model, *opt, x, y, cfg, flops, choose_prefix);
//
// A user with their own training loop can adopt apply_plan alone.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "etuner/model.h"
#include "etuner/policy.h"
#include "etuner/train_config.h"

namespace etuner::tuning {

// Frozen blocks get requires_grad(false), an undefined gradient (LibTorch's optimizers skip a
// parameter only when its grad is undefined: a zero grad still gets momentum and weight
// decay) and BatchNorm in eval mode. All other units train.
void apply_plan(model::BlockModel& m, const policy::FreezePlan& plan);

// Named setters, so a call site says which number is which:
//   make_optimizer(m, OptimizerConfig{}.with_lr(0.1));
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kSgd;
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  OptimizerConfig& with_kind(OptimizerKind k) { return kind = k, *this; }
  OptimizerConfig& with_lr(double v) { return lr = v, *this; }
  OptimizerConfig& with_momentum(double v) { return momentum = v, *this; }
  OptimizerConfig& with_weight_decay(double v) { return weight_decay = v, *this; }
  static OptimizerConfig from(const TrainConfig& t) {
    return OptimizerConfig{}
        .with_kind(t.optimizer)
        .with_lr(t.lr)
        .with_momentum(t.momentum)
        .with_weight_decay(t.weight_decay);
  }
};
std::unique_ptr<torch::optim::Optimizer> make_optimizer(model::BlockModel& m,
                                                        const OptimizerConfig& cfg);

class ActivationCache;  // src/tuning/activation_cache.h
// A frozen-prefix activation cache that outlives rounds (RoundConfig::cache), within
// `budget_mb`; `forget_all` empties it (e.g. the weights were restored from another copy).
std::shared_ptr<ActivationCache> new_activation_cache(double budget_mb);
void forget_all(ActivationCache& cache);

struct RoundConfig {
  int epochs = 1;
  int batch_size = 32;
  double cache_mb = 256;  // frozen-prefix activation cache budget; 0 disables the cache
  // Optional: a cache that outlives the round (it then replaces `cache_mb`'s own), and the
  // id of every row of x's sample, so a replayed sample cached in an earlier round is served
  // again. Without ids the rows are their own ids.
  ActivationCache* cache = nullptr;
  const std::vector<int64_t>* row_ids = nullptr;
  bool verify_cache = false;  // recompute cached activations and assert they match
  uint64_t seed = 0;          // minibatch order
  // Rows [0, scored_rows) are scored in the first epoch: whether the model, as it stood
  // before their minibatch's step, labeled them right (RoundResult::first_epoch_hits).
  int64_t scored_rows = 0;
  // Called after every backward pass, before the optimizer step (e.g. gradient statistics).
  std::function<void(model::BlockModel&)> after_backward;
};

struct RoundResult {
  int steps = 0;
  int64_t samples = 0;     // sample passes (samples x epochs)
  double train_flops = 0;  // forward+backward FLOPs actually executed
  double loss = 0;         // mean loss of the last epoch
  bool finite = true;      // false: a loss went NaN/inf and the round must be discarded
  int frozen_prefix = 0;   // at the end of the round
  int64_t cache_hits = 0;
  torch::Tensor first_epoch_hits;  // bool, RoundConfig::scored_rows long (else undefined)
};

// Called at the start of every epoch; returns the frozen prefix to train with.
using PrefixChooser = std::function<int(int epoch)>;

RoundResult run_round(model::BlockModel& m, torch::optim::Optimizer& opt, const torch::Tensor& x,
                      const torch::Tensor& y, const RoundConfig& cfg,
                      const model::FlopsProfile& flops, const PrefixChooser& choose_prefix);

// Atomic checkpoint of model and optimizer: temp files, then rename.
void save_checkpoint(const std::string& dir, const model::BlockModel& m,
                     torch::optim::Optimizer& opt);

// Cross-entropy loss and accuracy of m on (x, y) in eval-free no-grad mode (modes untouched).
struct Eval {
  double loss = 0;
  double accuracy = 0;
};
Eval evaluate(model::BlockModel& m, const torch::Tensor& x, const torch::Tensor& y);

// Linear CKA (Kornblith et al. 2019) between two representations [n, ...] of the same n
// samples, through their centered n x n Gram matrices (cheap when features >> n): 1 for
// representations equal up to rotation and isotropic scaling, near 0 for unrelated ones.
double linear_cka(const torch::Tensor& a, const torch::Tensor& b);
// The same from centered Gram matrices (centered_gram), so a reference is computed once.
torch::Tensor centered_gram(const torch::Tensor& representation);
double linear_cka_gram(const torch::Tensor& k, const torch::Tensor& l);

// Outputs of blocks [from, num_blocks) of m, in eval mode without gradients, where `input`
// is the probe's output of block from-1 (the probe itself when from is 0); the entries
// before `from` are left undefined. Unit modes are restored afterwards as
// apply_plan({frozen_prefix}) sets them.
std::vector<torch::Tensor> block_outputs(model::BlockModel& m, const torch::Tensor& input,
                                         int frozen_prefix, int from = 0);

// Label-free BatchNorm adaptation: moves m's BatchNorm running statistics a fraction `alpha`
// of the way to the statistics of `x` (one no-grad forward in train mode). Assumes the
// BatchNorm momentum is PyTorch's default 0.1 (every zoo model's); m is left in eval mode.
// Units before `first_unit` keep their statistics (their adapted values are already known).
void adapt_batchnorm(model::BlockModel& m, const torch::Tensor& x, double alpha,
                     int first_unit = 0);

// The fused form of adapt_batchnorm: moves each BatchNorm's running statistics `alpha` of the
// way to what its tally summed over the answering passes since the last call (mean, and the
// unbiased variance as BatchNorm keeps it), for units from `first_unit`, then resets every
// tally. The tallied inputs were normalized upstream with the running statistics, not with
// batch statistics as in adapt_batchnorm's train-mode pass. Units before `first_unit` move
// `prefix_alpha` of the way (0: they keep their statistics). Returns the values tallied
// (sum over layers of count x channels), what the tallies cost. m must be able to tally.
int64_t apply_batchnorm_tallies(model::BlockModel& m, double alpha, int first_unit = 0,
                                double prefix_alpha = 0);
// Forgets every tally of m (the tallied passes no longer describe m's units).
void reset_batchnorm_tallies(model::BlockModel& m);

}  // namespace etuner::tuning
