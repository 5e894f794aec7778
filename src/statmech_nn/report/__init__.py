"""Front-end outputs: figures of observables with theory overlaid, and the ``analyze`` pipeline."""
