"""Exports: responses -> frames, anonymise, codebook, writers. Pure pandas: no Flask, no DB.

Entry points: :func:`build_dataset` (anonymised frames and codebook), :func:`write_dataset`
(files on disk), :func:`run_export` (both), :func:`make_options` (policy + choices).
"""

from .options import FORMATS, TIME_RESOLUTIONS, ExportOptions, ExportOptionsError, make_options
from .pipeline import Dataset, ExportFiles, build_dataset, run_export, sha256_file, write_dataset

__all__ = [
    "FORMATS",
    "TIME_RESOLUTIONS",
    "Dataset",
    "ExportFiles",
    "ExportOptions",
    "ExportOptionsError",
    "build_dataset",
    "make_options",
    "run_export",
    "sha256_file",
    "write_dataset",
]
