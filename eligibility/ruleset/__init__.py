"""Load and validate: rule files become a ``RuleSet`` (layer 1).

``load`` reads a rules directory (YAML with file:line:col errors), validates every file and the
references between them, and keeps the result in the user's cache; ``facts`` is the vocabulary of
facts the rules may test (and how a case's fields give them); ``conditions`` parses a rule's
``when`` into a condition tree and words it; ``rulebook`` lists and describes rules for people.

May import only the basics below it (``eligibility.errors``, ``yamlsource``, ``cache``,
``countries``, ``case``). Nothing here knows how rules are compiled or evaluated.
"""
