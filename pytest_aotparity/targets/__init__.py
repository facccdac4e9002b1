"""Where the builds run: containers, local processes or URLs, behind one protocol."""
