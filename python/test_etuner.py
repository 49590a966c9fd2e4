#!/usr/bin/env python3
"""The Python module on a short synthetic stream (run by ctest as python.stream).

The images are 1x12x12; class c is a bright square in quadrant c of the image over noise, so
the "tiny" model learns it in a few rounds. PYTHONPATH must name the folder holding the
module (ctest sets it to build/python).
"""
import math
import os
import tempfile
import unittest

import torch

import etuner

SHAPE = (1, 12, 12)
CLASSES = 4
TRAIN = {"epochs_per_round": 3, "batch_size": 16, "replay_samples": 16, "replay_buffer": 64,
         "lr": 0.1}


def batch(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, CLASSES, (n,), generator=g)
    x = 0.2 * torch.rand((n,) + SHAPE, generator=g)
    for i, c in enumerate(y.tolist()):
        r, col = (c // 2) * 6, (c % 2) * 6
        x[i, 0, r:r + 6, col:col + 6] += 0.7
    return x, y


def runtime(policy="immediate", **kw):
    return etuner.Runtime("tiny", input=SHAPE, classes=CLASSES, policy=policy, train=TRAIN,
                          threads=1, meter="modeled", **kw)


class Stream(unittest.TestCase):
    def test_immediate_trains_and_deploys_a_version_per_batch(self):
        rt = runtime()
        self.assertEqual(rt.version, 0)
        self.assertEqual(rt.policy, "immediate")
        for b in range(8):
            x, y = batch(32, b)
            first = rt.add_labeled(x, y, now_s=10.0 * b)
            self.assertEqual(first, 32 * b)
            record = rt.advance(10.0 * b)
            self.assertIsNotNone(record, f"batch {b}: immediate ran no round")
            self.assertEqual(record["fresh_samples"], 32)
            self.assertTrue(math.isfinite(record["loss"]))
            self.assertGreaterEqual(record["frozen_prefix"], 0)
            self.assertGreater(record["samples"], 0)
            self.assertEqual(rt.version, b + 1)
        consumed = rt.take_consumed()
        self.assertEqual(consumed["trained"], list(range(8 * 32)))
        totals = rt.totals
        self.assertEqual(totals["rounds"], 8)
        self.assertGreaterEqual(totals["samples_trained"], 8 * 32)  # passes: replay, epochs

        x, y = batch(200, 100)
        p = rt.predict(x)
        labels, confidence, version, lag = p
        self.assertEqual(version, 8)
        self.assertEqual(lag, 0)
        self.assertEqual(labels.dtype, torch.long)
        self.assertEqual(labels.shape, (200,))
        self.assertEqual(confidence.dtype, torch.float32)
        self.assertTrue(bool(((confidence > 0) & (confidence <= 1)).all()))
        accuracy = (labels == y).float().mean().item()
        self.assertGreater(accuracy, 0.9, "the model did not learn the quadrant rule")

    def test_never_keeps_version_zero(self):
        rt = runtime("never")
        x, y = batch(16, 1)
        rt.add_labeled(x, y, 0.0)
        self.assertIsNone(rt.advance(0.0))
        self.assertEqual(rt.predict(x).version, 0)
        self.assertEqual(rt.predict(x).lag_samples, 16)

    def test_rounds_train_inside_no_grad(self):
        rt = runtime()
        x, y = batch(16, 2)
        with torch.no_grad():
            rt.add_labeled(x, y, 0.0)
            self.assertIsNotNone(rt.advance(0.0))
        self.assertEqual(rt.version, 1)

    def test_the_caller_may_reuse_its_buffers(self):
        rt = runtime()
        x, y = batch(16, 3)
        rt.add_labeled(x, y, 0.0)
        x.fill_(float("nan"))  # the runtime trains on its own copy, not on this buffer
        record = rt.advance(0.0)
        self.assertFalse(record["discarded"])
        self.assertTrue(math.isfinite(record["loss"]))

    def test_a_torchscript_model_fine_tunes(self):
        # A scripted Sequential: its children are the units, the last one the head.
        m = torch.nn.Sequential(
            torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU()),
            torch.nn.Sequential(torch.nn.Conv2d(4, 4, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()),
            torch.nn.Linear(4, CLASSES))
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "model.pt")
            torch.jit.script(m).save(path)
            rt = etuner.Runtime(path, input=SHAPE, classes=CLASSES, policy="immediate",
                                train=TRAIN, meter="modeled")
            self.assertEqual(rt.num_blocks, 2)
            rt.add_labeled(*batch(16, 5), 0.0)
            self.assertIsNotNone(rt.advance(0.0))
            self.assertEqual(rt.version, 1)
            with self.assertRaisesRegex(ValueError, r"must be \[1, 3\]"):
                etuner.Runtime(path, input=SHAPE, classes=3)

    def test_params_reach_the_policy(self):
        rt = runtime("etuner", params={"lazytune": {"max_merge": 2}})
        self.assertEqual(rt.policy, "etuner")

    def test_module_lists_presets_and_models(self):
        self.assertIn("immediate", etuner.presets())
        self.assertIn("tiny", etuner.zoo_models())


class BadArguments(unittest.TestCase):
    def test_wrong_image_shape(self):
        rt = runtime()
        x, y = batch(8, 1)
        want = r"add_labeled: images: expected shape \[N, 1, 12, 12\], got \[8, 3, 12, 12\]"
        with self.assertRaisesRegex(ValueError, want):
            rt.add_labeled(x.repeat(1, 3, 1, 1), y, 0.0)
        with self.assertRaisesRegex(ValueError, r"predict: images: expected shape"):
            rt.predict(x[0])

    def test_wrong_labels(self):
        rt = runtime()
        x, y = batch(8, 1)
        with self.assertRaisesRegex(ValueError, r"labels: expected shape \[8\]"):
            rt.add_labeled(x, y[:4], 0.0)
        with self.assertRaisesRegex(ValueError, r"labels: expected an integer tensor"):
            rt.add_labeled(x, y.float(), 0.0)
        with self.assertRaisesRegex(ValueError, r"labels: expected classes 0..3, got 7"):
            rt.add_labeled(x, torch.full((8,), 7), 0.0)
        with self.assertRaisesRegex(ValueError, r"floating-point"):
            rt.add_labeled((x * 255).to(torch.uint8), y, 0.0)

    def test_unknown_policy_names_the_valid_ones(self):
        with self.assertRaisesRegex(ValueError, r"nope.*immediate"):
            runtime("nope")

    def test_unknown_model_and_keys(self):
        with self.assertRaisesRegex(ValueError, r"model 'nope.pt': neither a zoo model"):
            etuner.Runtime("nope.pt", input=SHAPE, classes=CLASSES)
        with self.assertRaisesRegex(ValueError, r"train.bogus: unknown key"):
            etuner.Runtime("tiny", input=SHAPE, classes=CLASSES, train={"bogus": 1})
        with self.assertRaisesRegex(ValueError, r"bogus"):
            etuner.Runtime("tiny", input=SHAPE, classes=CLASSES, params={"bogus": {}})
        with self.assertRaisesRegex(ValueError, r"input: expected \(channels, height, width\)"):
            etuner.Runtime("tiny", input=(12, 12), classes=CLASSES)

    def test_stream_time_never_goes_back(self):
        rt = runtime()
        x, y = batch(8, 1)
        rt.add_labeled(x, y, 10.0)
        want = r"advance: now_s 5 is earlier than the last call's 10 \("
        with self.assertRaisesRegex(ValueError, want):
            rt.advance(5.0)


if __name__ == "__main__":
    unittest.main()
