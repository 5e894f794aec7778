"""statmech-nn: the statistical mechanics of learning, theory next to experiment.

Analytic models (``toy``, ``meanfield``, ``linearized``), sources of data
(``sampling``, ``networks``) and one comparison layer (``observables``,
``compare``) that reads every source through the same Trajectory contract
(``statmech_nn.io``).
"""

__version__ = "0.1.0"
