"""Exports: responses -> frames, anonymisation, codebook, writers. Pure pandas: no Flask, no DB."""
