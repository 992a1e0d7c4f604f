"""review: what a change of out/ means (the plan for a pull request, as text, Markdown or
JSON), read back from the rendered files themselves."""
