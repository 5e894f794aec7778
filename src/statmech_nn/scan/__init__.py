"""Parameter-space phase scans of the analytic models, as xarray Datasets."""
