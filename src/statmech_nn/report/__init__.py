"""Front-end outputs: model curves and scan heatmaps, figures of observables with theory overlaid, the
``analyze`` pipeline, and self-contained HTML reports."""
