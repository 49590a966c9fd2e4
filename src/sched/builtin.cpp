// The scheduler table: name, one-line help, factory. Add a policy here and nowhere else.
#include "etuner/sched.h"
#include "sched/schedulers.h"

namespace etuner::sched {

const Registry<policy::Scheduler>& registry() {
  static const Registry<policy::Scheduler> r(
      "scheduler",
      {
          {"immediate", "a round for every arriving labeled batch", make_immediate},
          {"catchup", "a round on the whole pending queue whenever the device is free",
           make_catchup},
          {"never", "no fine-tuning", make_never},
          {"lazytune", "merged rounds sized by held-out gain; eager after a detected change",
           make_lazytune},
          {"periodic", "peer: a round every N labeled batches (or T seconds), all pending data",
           make_periodic},
          {"ekya",
           "peer (Ekya, NSDI'22): retraining windows, a micro-profiler picks epochs x replay",
           make_ekya},
          {"oracle",
           "peer floor: knows the true scenario changes; trains at each, then merges geometrically",
           make_oracle},
      });
  return r;
}

}  // namespace etuner::sched
