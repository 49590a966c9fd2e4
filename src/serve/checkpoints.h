// Versioned model checkpoints of `etuner serve`: <dir>/v<N>.pt, written atomically and
// durably (write to a temp file, fsync it, rename, fsync the directory and its parent). The model
// is serialized in memory first, so a full disk is an exception (the commit is retried), never an
// abort inside LibTorch's writer.
//
// Why not tuning::save_checkpoint: it renames without fsync (a power cut can leave an empty
// file behind the new name) and writes one fixed name, while here the committed version lives
// in the sample store and the file must be named by it, so a crash between the rename and the
// store's commit leaves an orphan that the restart deletes instead of a wrong model.
#pragma once
#include <string>

#include "etuner/model.h"

namespace etuner::serve {

std::string checkpoint_path(const std::string& dir, int version);
// Creates dir and its missing parents so that a power cut cannot take them back: a new
// directory's name is durable only once its parent is fsynced. dir's own parent is fsynced
// even when dir exists, since an earlier run may have died between mkdir and that fsync.
void make_durable_dir(const std::string& dir);
// Writes m's tensors where they are: pass a CPU model, so the file loads on any machine.
void write_checkpoint(const std::string& dir, const model::BlockModel& m, int version);
// Tests: while on, write_checkpoint fails as on a full disk (before touching any file).
void fail_checkpoint_writes_for_tests(bool on);
// Deletes every checkpoint and temp file in dir except version `keep`'s.
void prune_checkpoints(const std::string& dir, int keep);

}  // namespace etuner::serve
