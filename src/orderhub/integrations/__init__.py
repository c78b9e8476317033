"""Adapters to outside systems: one package per provider, each with its simulator beside it."""
