"""003's stochastic neuronal gates and basis circuits (analytic models; NumPy only, no torch).

- :mod:`.stochastic`: the output law of a bias-free MLP with stochastic gates (exact enumeration, Monte Carlo,
  per-layer mean field = Swish), T → 0 = ReLU (003 §II.2, eqs. (5)-(8));
- :mod:`.circuits`: path expansion of bias-free ReLU MLPs and conv nets, first- and second-order circuit
  perturbations (gradient and Hessian entries), uniform path sampling, circuit-symmetry statistics (§II.3-II.4);
- :mod:`.assembly`: moments of assemblies against depth and width at the edge-of-chaos initialization (eq. (20));
- :mod:`.gate_claims`: the checks of validation/closed_forms/gates.toml.
"""
