"""Checks of the claims on 003's stochastic gates and basis circuits (validation/closed_forms/gates.toml).

Each function takes the claim's params as keyword arguments and returns (deviation, detail), comparing with an
independent computation: brute-force gate enumeration, Monte Carlo, a direct NumPy forward pass (scipy's
correlate for convolutions), finite differences of that forward pass. Each runs in well under 2 s.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import correlate

from ..checks import registered_check
from ..errors import ParameterError
from ..params import require_budget, require_int, rng_from
from .assembly import assembly_moments
from .circuits import build_stages, circuit_gradient, circuit_hessian, path_tensor, sample_paths, symmetry_statistics
from .stochastic import exact, mean_field, monte_carlo, output_atoms, relu_forward


def random_mlp(widths, seed=0, scale: float = 1.0) -> list[np.ndarray]:
    """He-normal layer matrices (n_out, n_in) for the given widths (input first, output last): a list of at least
    two integers >= 1 within the memory budget (a claims file's params are checked like flags)."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, (list, tuple)) or len(widths) < 2:
        raise ParameterError("widths", widths, "a list of at least two integers >= 1")
    widths = [require_int("widths", w, 1) for w in widths]
    require_budget(f"widths = {widths}", memory=8.0 * sum(a * b for a, b in zip(widths, widths[1:])))
    rng = rng_from(seed)
    return [rng.normal(0.0, scale * np.sqrt(2.0 / n_in), size=(n_out, n_in))
            for n_in, n_out in zip(widths[:-1], widths[1:])]


def _relative(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


# --- stochastic gates ------------------------------------------------------------------------------------------
@registered_check
def zero_temperature_is_relu(widths, temperature: float, networks: int = 20, seed: int = 0):
    """003 eq. (7): as T → 0 the gate network's exact mean (and the mean field) is the ReLU network's output."""
    rng = rng_from(seed)
    worst = 0.0
    for _ in range(networks):
        layers = random_mlp(widths, rng)
        x = rng.normal(size=widths[0])
        relu = relu_forward(layers, x)
        worst = max(worst, _relative(exact(layers, x, temperature).mean, relu),
                    _relative(mean_field(layers, x, temperature), relu))
    return worst, (f"largest relative difference from the ReLU forward pass over {networks} networks "
                   f"at T = {temperature:g}")


@registered_check
def mean_field_one_hidden_layer(n_in: int, width: int, temperatures, networks: int = 20, seed: int = 0):
    """One hidden layer: the mean over all 2^width gate patterns (atoms, no closed form) is the Swish output."""
    rng = rng_from(seed)
    worst = 0.0
    for _ in range(networks):
        layers = random_mlp([n_in, width, 1], rng)
        x = rng.normal(size=n_in)
        for t in temperatures:
            values, probabilities = output_atoms(layers, x, t)
            worst = max(worst, _relative(probabilities @ values, mean_field(layers, x, t)))
    return worst, (f"all 2^{width} gate patterns enumerated against Swish, {networks} networks, "
                   f"T in {list(temperatures)}")


@registered_check
def mean_field_two_hidden_layers(widths, temperature: float, networks: int = 20, seed: int = 0):
    """Two hidden layers: the per-layer mean field against the exact mean (they differ: E[zσ(z/T)] ≠ E[z]σ(E[z]/T))."""
    rng = rng_from(seed)
    deviations = []
    for _ in range(networks):
        layers = random_mlp(widths, rng)
        x = rng.normal(size=widths[0])
        law = exact(layers, x, temperature)
        deviation = np.abs(law.mean - mean_field(layers, x, temperature)) / np.sqrt(law.variance)
        deviations.append(float(np.max(deviation)))
    return float(np.median(deviations)), (f"median over {networks} networks of |mean field - exact mean| in units "
                                          f"of the output's standard deviation, T = {temperature:g}; the mean field "
                                          "is exact for one hidden layer only")


@registered_check
def monte_carlo_agrees(widths, temperature: float, samples: int, networks: int = 10, seed: int = 0):
    """Seeded Monte Carlo means lie within a few standard errors of the exact enumeration (largest |z| returned)."""
    rng = rng_from(seed)
    worst = 0.0
    for _ in range(networks):
        layers = random_mlp(widths, rng)
        x = rng.normal(size=widths[0])
        law, sample = exact(layers, x, temperature), monte_carlo(layers, x, temperature, samples, rng)
        worst = max(worst, float(np.max(np.abs(sample.mean - law.mean) / sample.sem)))
    return worst, f"largest |MC - exact| / s.e. over {networks} networks, {samples} draws each"


# --- basis circuits --------------------------------------------------------------------------------------------
def _small_cnn(rng, channels=(2, 3), size: int = 4, hidden: int = 4):
    k1 = rng.normal(size=(channels[0], 1, 3, 3))
    k2 = rng.normal(size=(channels[1], channels[0], 3, 3))
    pooled = channels[1] * (size // 2) ** 2
    l1, l2 = rng.normal(size=(hidden, pooled)), rng.normal(size=(1, hidden))
    specs = [("conv", k1, 1), ("relu",), ("conv", k2, 1), ("relu",), ("maxpool", 2), ("flatten",), ("linear", l1),
             ("relu",), ("linear", l2)]
    return specs, rng.normal(size=(1, size, size))


def numpy_forward(specs, x) -> np.ndarray:
    """A direct forward pass (scipy.signal.correlate for convolutions), independent of the unrolled stages."""
    a = np.asarray(x, float)
    for spec in specs:
        if spec[0] == "linear":
            a = spec[1] @ a.reshape(-1)
        elif spec[0] == "conv":
            kernel, pad = spec[1], spec[2]
            padded = np.pad(a, ((0, 0), (pad, pad), (pad, pad)))
            a = np.stack([sum(correlate(padded[c], kernel[o, c], mode="valid") for c in range(kernel.shape[1]))
                          for o in range(kernel.shape[0])])
        elif spec[0] == "relu":
            a = np.maximum(a, 0.0)
        elif spec[0] == "maxpool":
            k = spec[1]
            c, h, w = a.shape
            a = a[:, : h // k * k, : w // k * k].reshape(c, h // k, k, w // k, k).max(axis=(2, 4))
        else:
            a = a.reshape(-1)
    return a


def _networks(kind: str, rng):
    if kind == "mlp":
        layers = random_mlp([4, 5, 4, 3, 1], rng)
        specs = [s for w in layers for s in (("linear", w), ("relu",))][:-1]
        return specs, rng.normal(size=4)
    return _small_cnn(rng)


@registered_check
def path_expansion(kinds=("mlp", "cnn"), networks: int = 5, seed: int = 0):
    """003 eq. (10): Σ over all paths of x_{i0}Ψ_i equals the network's output (bias-free MLP and CNN)."""
    rng = rng_from(seed)
    worst = 0.0
    for kind in kinds:
        for _ in range(networks):
            specs, x = _networks(kind, rng)
            worst = max(worst, _relative(path_tensor(build_stages(specs, x)).sum(), numpy_forward(specs, x)))
    return worst, f"relative difference between the path sum and a direct forward pass ({', '.join(kinds)})"


def _flat_weights(specs):
    return [spec[1] for spec in specs if spec[0] in ("linear", "conv")]


def _with_weights(specs, flat, sizes):
    out, position, index = [], 0, 0
    for spec in specs:
        if spec[0] in ("linear", "conv"):
            w = flat[position:position + sizes[index]].reshape(spec[1].shape)
            out.append((spec[0], w, *spec[2:]))
            position, index = position + sizes[index], index + 1
        else:
            out.append(spec)
    return out


@registered_check
def perturbations_match_differences(kinds=("mlp", "cnn"), step: float = 1e-4, seed: int = 0):
    """003 eqs. (15)-(19): sums of Ω¹ and Ω² equal central finite differences of the forward pass.

    T is piecewise multilinear in the weights, so central differences are exact (to rounding) when no gate flips
    within ±step; the largest relative deviation over gradient and Hessian entries is returned.
    """
    rng = rng_from(seed)
    worst = 0.0
    for kind in kinds:
        specs, x = _networks(kind, rng)
        circuits = build_stages(specs, x)
        weights = _flat_weights(specs)
        sizes = [w.size for w in weights]
        theta = np.concatenate([w.reshape(-1) for w in weights])
        f = lambda t: float(numpy_forward(_with_weights(specs, t, sizes), x)[0])  # noqa: E731
        eye = np.eye(theta.size) * step
        gradient = np.array([(f(theta + e) - f(theta - e)) / (2 * step) for e in eye])
        ours = np.concatenate([g.reshape(-1) for g in circuit_gradient(circuits)])
        pick = rng.choice(theta.size, size=(40, 2))
        hessian = np.array([(f(theta + eye[i] + eye[j]) - f(theta + eye[i] - eye[j]) - f(theta - eye[i] + eye[j])
                             + f(theta - eye[i] - eye[j])) / (4 * step**2) for i, j in pick])
        circuit_h = circuit_hessian(circuits)[pick[:, 0], pick[:, 1]]
        worst = max(worst, _relative(ours, gradient), _relative(circuit_h, hessian) if np.any(hessian) else 0.0)
    return worst, f"relative deviation from central differences (step {step:g}) of all gradient and 40 Hessian entries"


@registered_check
def circuit_symmetry_at_init(widths, paths_per_network: int, networks: int, seed: int = 0):
    """003 eq. (14): at initialization the basis circuits x·Ψ are symmetric in law (KS distance of ψ and -ψ)."""
    rng = rng_from(seed)
    values = []
    for _ in range(networks):
        layers = random_mlp(widths, rng)
        specs = [s for w in layers for s in (("linear", w), ("relu",))][:-1]
        values.append(sample_paths(build_stages(specs, rng.normal(size=widths[0])), paths_per_network, rng).psi)
    stats = symmetry_statistics(np.concatenate(values))
    return stats["ks_mirror"], (f"KS distance between ψ and -ψ over {networks} He-initialized networks x "
                                f"{paths_per_network} paths; skewness {stats['skewness']:.3f}, fraction positive "
                                f"{stats['fraction_positive']:.3f}, atom at zero {stats['atom_zero']:.3f}")


@registered_check
def symmetric_assembly_means(depths, width: int, networks: int, seed: int = 0):
    """003 eq. (20) with every weight symmetric: E T(x) and E ∂T/∂W_1 vanish (largest |mean| / s.e. over depths)."""
    moments = assembly_moments(depths, (width,), mu=None, networks=networks, seed=seed)
    z = np.abs(moments["mean"] / moments["sem"]).sel(order=[0, 1])
    second = moments["mean"].sel(order=2, width=width).values
    return float(z.max()), ("k = 0, 1 means are zero by the sign flip of the output layer; the k = 2 entry between "
                            f"the first and the last layer is not: its mean over depths {list(depths)} is "
                            f"{np.array2string(second, precision=3)} (no weight of the last layer is left to flip)")


@registered_check
def broken_assembly_mean_decay(depths, width: int, mu: float, networks: int, seed: int = 0):
    """003 eq. (20): with ⌈√n^{1-μ}⌉ broken (folded, positive) weights per layer, |E T(x)| decays at least like
    max(c²/2, c/√n^μ)^L; returns the fitted per-layer factor minus the bound's (0 with an 'inconclusive' detail
    when fewer than 3 depths have a significant mean)."""
    from .assembly import decay_rates

    moments = assembly_moments(depths, (width,), mu=mu, networks=networks, seed=seed)
    row = next(r for r in decay_rates(moments) if r["order"] == 0)
    if row["verdict"] == "inconclusive":
        return 0.0, "inconclusive: too few depths with a mean beyond 3 standard errors"
    means = np.array2string(moments["mean"].sel(order=0, width=width).values, precision=3)
    return row["mean_factor"] - row["bound_mean_factor"], (
        f"|E T(x)| per layer x{row['mean_factor']:.3f} against the bound's x{row['bound_mean_factor']:.3f}; means "
        f"{means} over depths {list(depths)}: broken output-layer weights times nonnegative ReLU activations give a "
        "mean that does not decay with depth")
