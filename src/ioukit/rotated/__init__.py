"""Rotated boxes (placeholder)."""
