"""The comparison layer: theory checks (claims), fits of theory to observables, overlays."""
