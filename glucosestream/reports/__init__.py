"""Thin CSV commands over the core: metrics, episodes and alerts replay of an
``id,time,gl`` file."""
