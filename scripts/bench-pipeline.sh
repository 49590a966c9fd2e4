#!/usr/bin/env bash
# The foundation's benchmark pipeline: grids on tuning copies, then the CIFAR-10 pretraining.
set -u
# Other work shares these 2 cores: without this, OpenMP spin-waiting makes 2 threads ~20x slower.
export OMP_WAIT_POLICY=PASSIVE
E=${ETUNER:-build-lead/etuner}
for s in fmnist-ni fmnist-nc; do
  python3 scripts/grid.py bench/streams/$s.json --etuner $E --lr 0.003,0.01,0.03 --epochs 1,2 --replay 32,128 > out/grid-$s.md 2> out/grid-$s.log
done
for s in cifar10-ni cifar10-nc cifar10-mixed; do
  /usr/bin/time -f "$s pretrain %e s" $E pretrain --stream bench/streams/$s.json --quiet
done
for s in cifar10-ni cifar10-nc cifar10-mixed; do
  python3 scripts/grid.py bench/streams/$s.json --etuner $E --lr 0.003,0.01,0.03 --epochs 1,2 --replay 64 > out/grid-$s.md 2> out/grid-$s.log
done
