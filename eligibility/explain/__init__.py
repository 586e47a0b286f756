"""Explain: the determination a user reads (layer 4).

``determination`` holds the output contract (pydantic models, the JSON Schema of a
determination); ``build`` makes one from a settled case, with reasons and citations, and
``render_text`` words it for a person.

May import the layers below it (``eligibility.analysis``, ``engine``, ``ruleset`` and the basics).
"""
