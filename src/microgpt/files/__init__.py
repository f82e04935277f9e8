"""Everything between a run and the disk, and the guards that keep the user's work safe.

    inputs.py          reading a file the user named: regular files only, size-bounded
    outputs.py         every file a command writes, checked before its first step
    atomic.py          the one atomic writer (temp file, fsync, rename)
    writelock.py       one run writes a checkpoint at a time (OUT.lock)
    checkpoint.py      JSON checkpoints: saved and loaded with every field validated
    metadata.py        the checkpoint's training block, typed and validated
    safetensors_io.py  the same checkpoint with its tensors in safetensors (never pickle)
    interrupts.py      Ctrl-C and SIGTERM in every phase: training saves, the rest ends at once
    resources.py       will a run fit in memory? checked before it starts

None of it is the GPT: the model, its training and sampling are the modules one
folder up.
"""
