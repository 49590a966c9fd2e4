// The freezer table: name, one-line help, factory. Add a policy here and nowhere else.
#include "etuner/freeze.h"
#include "freeze/freezers.h"

namespace etuner::freeze {

const Registry<policy::Freezer>& registry() {
  static const Registry<policy::Freezer> r(
      "freezer",
      {
          {"none", "every block trains", make_none},
          {"simfreeze", "freeze the longest prefix whose CKA stopped changing", make_simfreeze},
          {"egeria",
           "peer (Egeria, EuroSys'23): freeze front blocks whose plasticity vs a lagging copy "
           "settled",
           make_egeria},
          {"autofreeze",
           "peer (AutoFreeze, 2021): freeze front blocks whose gradient-norm change is below the "
           "median",
           make_autofreeze},
      });
  return r;
}

}  // namespace etuner::freeze
