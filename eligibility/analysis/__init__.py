"""Search over classes of cases (layer 3).

``settle`` splits a case's unknown facts into regions that every rule treats alike and decides
each; ``counterfactual`` finds the smallest changes of facts that change the answer; ``verify``
checks the shipped invariants over every class of cases; ``diff`` lists where two policies
determine a case differently; ``witness`` turns a class of cases into a concrete example.

May import the layers below it (``eligibility.engine``, ``eligibility.ruleset`` and the basics).
"""
