"""The ``itsmcore`` command line (private: the console script is :func:`itsmcore.cli.main`).

Needs the ``cli`` extra (click and rich); :mod:`itsmcore.cli` says so when it is missing.
"""
