// eata: EATA-style test-time adaptation (Niu et al., ICML'22) on top of `bn`. Per chunk of
// answered requests, after the BatchNorm statistics step: one SGD step on the BatchNorm
// affine parameters minimizing the entropy of answers that are confident (entropy below
// entropy_margin x ln C) and not redundant with the running mean answer, weighted by
// exp(margin - entropy), plus fisher_weight x a Fisher penalty toward the deployed
// version's parameters (Fisher from the pretraining samples, when the runtime has them).
// reset_every > 0 resets the answering copy to the deployed weights every that many steps
// (RDumb, NeurIPS'23). The runtime's adaptation part applies it (src/runtime/entropy_step.cpp).
#include <algorithm>

#include "adapt/adapters.h"
#include "etuner/fields.h"

namespace etuner::adapt {

std::unique_ptr<policy::AdaptOptions> make_eata(const nlohmann::json& params) {
  auto a = policy::AdaptOptions{}.with_bn().with_entropy_steps();
  Fields f(params, "eata");
  read_statistics_fields(f, a);
  a.entropy_lr = std::max(0.0, f.get("entropy_lr", a.entropy_lr));
  a.entropy_margin = std::max(0.0, f.get("entropy_margin", a.entropy_margin));
  a.redundancy_margin = std::max(0.0, f.get("redundancy_margin", a.redundancy_margin));
  a.fisher_weight = std::max(0.0, f.get("fisher_weight", a.fisher_weight));
  a.reset_every = std::max(0, f.get("reset_every", a.reset_every));
  f.finish();
  return std::make_unique<policy::AdaptOptions>(a);
}

}  // namespace etuner::adapt
