"""The comparison layer's private numerical helpers (not what users measure; :mod:`statmech_nn.observables` is):
half-line integrals in log space (``halfline``), the Hurwitz ζ (``hurwitz``), bounded Newton steps (``newton``),
log binning (``binning``) and the numba kernels of the power-law fitter (``powerlaw_kernels``)."""
