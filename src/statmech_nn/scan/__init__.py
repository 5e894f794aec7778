"""Parameter-space scans, as xarray Datasets: the quartic model's grids (:mod:`.grid`), the mean-field
phase diagrams and temperature curves (:mod:`.meanfield`), and the two-timescale Langevin bias over (ε, dt)
(:mod:`.langevin_bias`). Their figures are in :mod:`statmech_nn.report`."""
