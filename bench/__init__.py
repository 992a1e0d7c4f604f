"""`make bench`: speed and memory of infragen on synthetic estates (not a test)."""
