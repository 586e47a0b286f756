"""Population simulation (an application, layer 7): ``population`` runs a cited population file
(``eligibility/populations/*.yaml``) through a policy; ``plot`` charts the result (matplotlib,
an optional extra).

May import every layer below the applications (through ``eligibility.fast`` and
``eligibility.ruleset``); never ``eligibility.batch`` or ``eligibility.testing``.
"""
