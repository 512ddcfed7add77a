"""Command-line tools of the project: the offline plan."""
