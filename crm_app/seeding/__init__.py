"""Data that a new workspace starts with: the defaults, the demo, the scale data set."""
