"""Numbered SQL migrations for the read models, one directory per backend (package data)."""
