"""render: output files described by targets → text, through Jinja2 templates."""
