"""Hessian spectral density by SLQ on a real network: ours vs ``hessian-eigenthings`` 1.0.0a5, same steps and probes.

The network: the claims' trained bias-free ReLU MLP 64-12-8-1 (P = 872, hinge loss) on all 1437 binary digits
training images, float64. Both run 90 Lanczos steps × 10 Rademacher probes with full reorthogonalization;
each density is scored by the Wasserstein-1 distance of its quadrature measure (nodes, weights) to the exact
``eigvalsh`` spectrum, as a fraction of the spectral range. Correctness check: the two HVPs agree on a
random vector, both distances are below 1 % of the range (mean and spread over 5 seeds: the two tools draw
different probes). Timings: medians of 3 runs (2 shared cores). Ours keeps the graph of ∇R between HVPs
(one backward pass each); hessian-eigenthings rebuilds it for every HVP.
Run: PYTHONPATH=benchmarks:src .venv/bin/python benchmarks/bench_hessian_density.py
"""

import numpy as np
import torch
from harness import median_seconds, report
from hessian_eigenthings import HessianOperator as ReferenceOperator
from hessian_eigenthings import spectral_density, supervised_loss

from statmech_nn.networks.torch_hessian import HessianOperator, exact_spectrum
from statmech_nn.networks.hessian_claims import trained_bias_free
from statmech_nn.observables.hessian import SpectralMeasure, slq, wasserstein_to_spectrum

STEPS, PROBES = 90, 10
SEEDS = 5   # accuracy: mean and spread of W1 over 5 seeds each (the probes differ between the tools)


def main():
    torch.set_num_threads(1)
    model, x, y = trained_bias_free(n_train=1437)
    ours_operator = HessianOperator(model, "hinge", x, y)
    eigenvalues, _ = exact_spectrum(ours_operator.exact())
    spread = eigenvalues[-1] - eigenvalues[0]

    reference_model = ours_operator.model
    xt, yt = ours_operator.x, ours_operator.y
    criterion = ours_operator.objective.loss
    loss_fn = supervised_loss(lambda output, target: criterion(output, xt, target))
    reference_operator = ReferenceOperator(reference_model, [(xt, yt)], loss_fn)

    v = np.random.default_rng(0).standard_normal(ours_operator.dim)
    reference_hv = reference_operator.matvec(torch.as_tensor(v)).numpy()
    hvp_dev = float(np.abs(ours_operator.matvec(v) - reference_hv).max() / np.abs(reference_hv).max())

    holder = {}

    def ours():
        holder["ours"] = slq(ours_operator.matvec, ours_operator.dim, steps=STEPS, probes=PROBES, seed=0)

    def reference():
        holder["reference"] = spectral_density(reference_operator, num_runs=PROBES, lanczos_steps=STEPS, seed=0)

    ours_s = median_seconds(ours, repeat=3, warmup=0)
    reference_s = median_seconds(reference, repeat=3, warmup=0)

    def reference_measure(result):
        weights = result.raw_weights.numpy()
        nodes = np.nan_to_num(result.raw_eigenvalues.numpy(), nan=0.0)
        return SpectralMeasure(nodes, weights / weights.sum(axis=1, keepdims=True), ours_operator.dim)

    ours_w1 = [wasserstein_to_spectrum(slq(ours_operator.matvec, ours_operator.dim, steps=STEPS, probes=PROBES,
                                           seed=seed), eigenvalues) / spread for seed in range(SEEDS)]
    reference_w1 = [wasserstein_to_spectrum(reference_measure(spectral_density(
        reference_operator, num_runs=PROBES, lanczos_steps=STEPS, seed=100 * seed)), eigenvalues) / spread
        for seed in range(SEEDS)]
    report("hessian_density_slq", ours_s=ours_s, reference_s=reference_s,
           check={"passed": bool(hvp_dev < 1e-12 and max(ours_w1) < 0.01 and max(reference_w1) < 0.01),
                  "hvp_max_rel_dev": hvp_dev},
           reference="hessian-eigenthings 1.0.0a5 spectral_density (double-backward HVP, float64)",
           P=ours_operator.dim, examples=ours_operator.n_examples, steps=STEPS, probes=PROBES,
           ours_w1_over_range_mean=float(np.mean(ours_w1)), ours_w1_over_range_std=float(np.std(ours_w1, ddof=1)),
           reference_w1_over_range_mean=float(np.mean(reference_w1)),
           reference_w1_over_range_std=float(np.std(reference_w1, ddof=1)), seeds=SEEDS, spectral_range=float(spread))


if __name__ == "__main__":
    main()
