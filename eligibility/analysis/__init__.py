"""Search over classes of cases (layer 3).

``partition`` holds the classes of the fact space (the cut points and classes of every fact) and
the one split-and-prune search over them, with its budget and its one way back from a class to a
case; the analyses are steps of that search. ``settle`` splits a case's unknown facts into
regions that every rule treats alike and decides each; ``counterfactual`` finds the smallest changes of facts that change the answer; ``verify``
checks the shipped invariants over every class of cases; ``diff`` lists where two policies
determine a case differently.

May import the layers below it (``eligibility.engine``, ``eligibility.ruleset`` and the basics).
"""
