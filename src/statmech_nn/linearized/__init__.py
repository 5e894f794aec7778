"""The linearized network model of 002 §4 (eqs. (14)-(21)): model, spec files, eigenvalue expansion, reference."""

from .expansion import EigenExpansion, compare_expansion, eigen_expansion
from .local_equilibrium import LinearizedConditional, LinearizedModel
from .reference import MarginalReference, reference_marginals
from .model_spec import load_model, model_from_spec

__all__ = ["EigenExpansion", "LinearizedConditional", "LinearizedModel", "MarginalReference", "compare_expansion",
           "eigen_expansion", "load_model", "model_from_spec", "reference_marginals"]
