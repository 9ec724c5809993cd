"""Compiling authored entities to Flyte IDL specs, validating them, and packaging them."""
