"""Diffing a pair of responses: normalise, compare, render.

``normalise`` turns bodies into comparable values, ``compare`` produces
:class:`Difference` records with a kind, cancels noise and picks a category, and
``render`` turns a divergence into text a person can act on.
"""
