"""Passwords, secret tokens and permissions."""
