"""Screens of the interactive view, one a module."""
