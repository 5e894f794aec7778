"""Reproduction protocols (validation/experiments/*.toml) and the main job that runs them end to end."""
