"""The run life cycle (DESIGN: run directory): the run directory and its one writer, the outcome it records, the
command that re-runs it, the checks before a resume or a read, and the one checkpoint-store protocol that the chain
store (``sampling/chain_store.py``) and the torch checkpoints (``networks/torch_checkpoint.py``) implement.

- :mod:`.checkpoints`: the checkpoint-store protocol (save state with the rows written and their digests, reopen
  at the newest intact checkpoint, verify the kept rows, fall back to an older one).
"""
