"""Ordered schema revisions; each file records one step and its way back."""
