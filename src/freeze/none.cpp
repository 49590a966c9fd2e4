// none: every block trains, always.
#include "freeze/freezers.h"

namespace etuner::freeze {
namespace {

class None final : public policy::Freezer {
 public:
  policy::FreezePlan decide(const policy::FreezeSignals&) override { return {}; }
};

}  // namespace

std::unique_ptr<policy::Freezer> make_none(const nlohmann::json&) {
  return std::make_unique<None>();
}

}  // namespace etuner::freeze
