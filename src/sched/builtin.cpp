// The scheduler table: name, one-line help, factory. Add a policy here and nowhere else.
#include "etuner/sched.h"
#include "sched/schedulers.h"

namespace etuner::sched {

const Registry<policy::Scheduler>& registry() {
  static const Registry<policy::Scheduler> r(
      "scheduler", {
                       {"immediate", "a round for every arriving labeled batch", make_immediate},
                       {"never", "no fine-tuning", make_never},
                       {"lazytune", "merged rounds sized by held-out gain; eager after a detected change", make_lazytune},
                   });
  return r;
}

}  // namespace etuner::sched
