"""Test doubles and fixtures shared by every test tier (unit, component, integration).

Fixture modules here are registered as plugins in ``tests/conftest.py``; the doubles are plain
classes to import."""
