"""Mirroring the app's own httpx-based suite to both builds, with ids kept in lockstep."""
