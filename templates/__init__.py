"""Built-in Jinja2 templates, one per output file kind; shipped as `infragen.templates`."""
