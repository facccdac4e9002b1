"""The run: the one owner of an enabled session's targets, id maps, rules and findings.

:mod:`.parity` holds :class:`~.parity.ParityRun` (the pytest hooks and the state they share),
:mod:`.judge` the one judge every request source hands its exchanges to.
"""
