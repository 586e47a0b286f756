"""Compile and evaluate one set of facts (layer 2).

``program`` compiles a policy's instruments and rules into a ``Program`` (conditions bound to
facts, cut points); ``decide`` turns the statuses of instruments into the headline, following the
policy's screening order; ``backends`` chooses the evaluator of which rules fire: the pure Python
one, or durable-rules behind ``durable`` (the only module that imports ``durable_rules_engine``).

May import the layers below it (``eligibility.ruleset`` and the basics).
"""
