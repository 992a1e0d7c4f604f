"""output: compare rendered files with `out/` (plan), show it (diff/check), write it (apply)."""
