"""The Partner API (v1): apps read their installs with a per-listing API key."""
