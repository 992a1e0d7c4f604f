"""infragen: one typed inventory renders every config of a mixed estate."""

__version__ = "0.1.0"
