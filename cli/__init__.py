"""The ``eligibility`` command line, built only on the public API of ``eligibility``."""
