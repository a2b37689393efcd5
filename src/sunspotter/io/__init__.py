"""Bytes on disk: bounded FITS reading, atomic writes, PSPT file names, header keys and mask codes."""
