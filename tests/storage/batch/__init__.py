"""Batch work by spreadsheet."""
