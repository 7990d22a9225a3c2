"""improvement."""
