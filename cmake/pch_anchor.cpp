// Anchors the precompiled torch header that every torch target reuses (see CMakeLists.txt).
namespace etuner {
int pch_anchor = 0;
}
