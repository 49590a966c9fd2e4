// A client of `etuner serve` (docs/serve.md): reads the model's input shape from the status,
// asks for a prediction, sends a labeled sample, and prints the answers.
//
//   etuner serve --model smallcnn --classes 10 --input 1x28x28 --data-dir /tmp/etuner &
//   client [PORT]           (default 8080, on 127.0.0.1)
#include <httplib.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

using nlohmann::json;

namespace {

// The body or, on a transport error or an error status, a message and exit code 1.
json call(httplib::Result r, const char* what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + httplib::to_string(r.error()));
  if (r->status >= 300) throw std::runtime_error(std::string(what) + ": " + r->body);
  return json::parse(r->body);
}

}  // namespace

int main(int argc, char** argv) try {
  httplib::Client server("127.0.0.1", argc > 1 ? std::atoi(argv[1]) : 8080);
  const json input = call(server.Get("/v1/status"), "status")["input"];
  const std::vector<int> shape = {input["channels"], input["height"], input["width"]};
  // A model input as JSON: C*H*W numbers in [0, 1] (here a horizontal gradient).
  std::vector<float> pixels(static_cast<size_t>(shape[0]) * shape[1] * shape[2]);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = (i % shape[2]) / float(shape[2]);
  json body = {{"tensor", pixels}, {"shape", shape}};

  const json answer = call(server.Post("/v1/predict", body.dump(), "application/json"), "predict");
  std::printf("predict: label %d, confidence %.3f, model version %d\n", answer["label"].get<int>(),
              answer["confidence"].get<double>(), answer["model_version"].get<int>());
  body["label"] = 0;
  const json sample = call(server.Post("/v1/samples", body.dump(), "application/json"), "sample");
  std::printf("sample: stored as id %lld\n", sample["sample_id"].get<long long>());
  const json status = call(server.Get("/v1/status"), "status");
  std::printf("status: version %d, %d samples stored, %d rounds run\n",
              status["model_version"].get<int>(), status["samples_stored"].get<int>(),
              status["rounds_run"].get<int>());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "client: %s\n", e.what());
  return 1;
}
