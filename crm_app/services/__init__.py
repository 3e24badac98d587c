"""Domain logic: plain functions over a Session and the acting user."""
