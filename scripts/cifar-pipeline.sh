#!/usr/bin/env bash
# Pretrains the CIFAR-10 streams' models, then runs their grids (see docs/results.md).
set -u
E=${ETUNER:-build-lead/etuner}
for s in cifar10-ni cifar10-nc cifar10-mixed; do
  /usr/bin/time -f "$s pretrain %e s" $E pretrain --stream bench/streams/$s.json --quiet
done
for s in cifar10-ni cifar10-nc cifar10-mixed; do
  python3 scripts/grid.py bench/streams/$s.json --etuner $E --lr 0.003,0.01,0.03 --epochs 1,2 --replay 64 > out/grid-$s.md 2> out/grid-$s.log
done
