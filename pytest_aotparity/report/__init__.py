"""What the run found: terminal summary, JSON and HTML reports, baseline, trade-offs."""
