// The durable shadow of a directory tree: what a power cut would leave of it.
//
// The power-loss test (tests/test_serve_powercut.cpp) runs `etuner serve` with the LD_PRELOAD
// shim of preload.cpp, which calls sync_file() and sync_dir() when the process fsyncs a file or
// a directory under the watched root. A SIGKILL then stands for the power cut, and restore()
// rebuilds the tree from the shadow alone. The model (that of POSIX, and of SQLite's crash
// tests without torn writes):
//
//   - A file's bytes are durable as of its last fsync/fdatasync; later writes are lost. A
//     file never fsynced comes back empty if its name survives.
//   - A name (create, rename, unlink, mkdir) is durable only once its directory is fsynced:
//     that fsync makes the directory's whole current listing durable. A directory whose own
//     listing was never fsynced comes back empty.
//   - Files are told apart by inode number and birth time (statx), so a reused inode number
//     is a different file, as on disk.
//
// On disk, under the shadow directory: blobs/<file id> (bytes), dirs/<dir key> (a listing,
// one "f <file id> <name>" or "d - <name>" per line). Each is replaced by rename, so a
// SIGKILL in the middle of an update leaves the old or the new state, never half of one.
// Not modelled: mmap writes (msync), O_SYNC/O_DSYNC files, sync_file_range, symlinks, and
// names with a newline or a '%'.
#pragma once
#include <string>

namespace etuner::powercut {

struct Shadow {
  std::string root;    // the watched tree (absolute, no symlinks)
  std::string shadow;  // where its durable state is kept (outside root)
};

// fd is open on a regular file under root: its current bytes become durable.
void sync_file(const Shadow& s, int fd);
// rel is a directory under root ("" for root itself): its current listing becomes durable.
void sync_dir(const Shadow& s, const std::string& rel);
// Everything under root becomes durable (the state at power-on; sync(2)).
void sync_all(const Shadow& s);
// Replaces target with what a power cut at this moment leaves of root.
void restore(const Shadow& s, const std::string& target);

}  // namespace etuner::powercut
