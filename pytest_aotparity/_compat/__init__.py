"""Every use of a private or undocumented name of another package, one module per package.

A name used here is not part of that package's public API and may go in any release;
``tests/test_compat.py`` checks each one on the installed versions and says which module to
update. Nothing outside this package reaches into another package's internals
(``tests/test_compat.py`` checks that too).
"""
