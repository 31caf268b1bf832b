"""Plumbing shared by every app that imports no app: ROC calendar, data-exchange engine, small helpers."""
