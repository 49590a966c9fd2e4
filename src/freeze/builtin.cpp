// The freezer table: name, one-line help, factory. Add a policy here and nowhere else.
#include "etuner/freeze.h"
#include "freeze/freezers.h"

namespace etuner::freeze {

const Registry<policy::Freezer>& registry() {
  static const Registry<policy::Freezer> r(
      "freezer", {
                     {"none", "every block trains", make_none},
                     {"simfreeze", "freeze the longest prefix whose CKA stopped changing", make_simfreeze},
                 });
  return r;
}

}  // namespace etuner::freeze
