"""Scoring records against the gold annotations: proposals and fields (``evaluate``) and events
(``eventscore``).
"""
