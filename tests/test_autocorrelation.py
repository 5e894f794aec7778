"""The shared τ estimator (:func:`statmech_nn.autocorrelation.integrated_time`) against a peer reference,
``emcee.autocorr.integrated_time`` (Foreman-Mackey et al. 2013), on the same series.

Both average every chain's FFT autocorrelation over chains and sum it up to Sokal's window (the first M with
M >= c τ(M), c = 5), so they agree to rounding: relative tolerance 1e-9. Both also stop a chain shorter than
50 τ. The series: AR(1) chains of known τ = (1 + ρ)/(1 - ρ) and the chains of emcee's own ensemble sampler.
"""

import emcee
import numpy as np
import pytest

from statmech_nn.autocorrelation import ChainTooShortError, ChainTooShortWarning, integrated_time

RTOL = 1e-9


def ar1(rho: float, n: int, chains: int, seed: int) -> np.ndarray:
    """(n, chains) AR(1) series x_t = ρ x_{t-1} + sqrt(1 - ρ²) ξ_t started in equilibrium; τ = (1 + ρ)/(1 - ρ)."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n, chains))
    x = np.empty((n, chains))
    x[0] = noise[0]
    scale = np.sqrt(1 - rho ** 2)
    for t in range(1, n):                      # n steps of a vector over chains
        x[t] = rho * x[t - 1] + scale * noise[t]
    return x


@pytest.mark.parametrize("rho, chains", [(0.0, 1), (0.5, 1), (0.9, 4), (0.95, 8)])
def test_integrated_time_of_ar1_equals_emcee(rho, chains):
    n = 20_000
    x = ar1(rho, n, chains, seed=int(rho * 100) + chains)
    ours = integrated_time(x)
    reference = float(emcee.autocorr.integrated_time(x, has_walkers=True)[0])   # (steps, walkers) -> one τ
    assert ours == pytest.approx(reference, rel=RTOL)
    # and both near the closed form: 4 standard errors of a windowed τ, τ sqrt(2 (2M + 1) / N), M = 5 τ
    tau = (1 + rho) / (1 - rho)
    assert ours == pytest.approx(tau, rel=4 * np.sqrt(2 * (10 * tau + 1) / (n * chains)))


def test_integrated_time_of_an_ensemble_sampler_chain_equals_emcee():
    """emcee's ensemble sampler on a correlated 2-d Gaussian: τ of each parameter over the 16 walkers."""
    precision = np.linalg.inv(np.array([[1.0, 0.9], [0.9, 1.0]]))

    def log_prob(p):
        return -0.5 * p @ precision @ p

    rng = np.random.default_rng(3)
    sampler = emcee.EnsembleSampler(16, 2, log_prob)
    sampler.random_state = np.random.RandomState(3).get_state()         # emcee's stretch moves, seeded
    sampler.run_mcmc(rng.standard_normal((16, 2)), 6000, progress=False)
    chain = sampler.get_chain(discard=500)                              # (steps, walkers, parameters)
    reference = emcee.autocorr.integrated_time(chain)
    for parameter in range(2):
        ours = integrated_time(chain[:, :, parameter])
        assert ours == pytest.approx(float(reference[parameter]), rel=RTOL)
        assert 1 < ours < len(chain) / 50


def test_both_refuse_a_chain_shorter_than_50_tau():
    x = ar1(0.99, 2_000, 2, seed=7)                                     # τ ≈ 199: needs ~10⁴ samples
    with pytest.raises(ChainTooShortError):
        integrated_time(x)
    with pytest.raises(emcee.autocorr.AutocorrError):
        emcee.autocorr.integrated_time(x)
    with pytest.warns(ChainTooShortWarning):
        ours = integrated_time(x, quiet=True)
    reference = float(emcee.autocorr.integrated_time(x, quiet=True)[0])    # emcee logs instead of warning
    assert ours == pytest.approx(reference, rel=RTOL)
