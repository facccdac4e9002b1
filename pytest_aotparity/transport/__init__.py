"""How requests travel to the builds, whatever sent them.

- :mod:`.wire` — the lean HTTP/1.1 client for plain ``http://`` builds (what the plugin starts);
- :mod:`.idmap` — JIT ids ↔ each other build's ids, rewritten into requests;
- :mod:`.answers` — one build's answer as recorded, and the plugin's own httpx clients;
- :mod:`.pair` — the one pair sender: a request to every build at once, ids translated and
  learned, one pair in flight ahead, abandon on interruption.
"""
