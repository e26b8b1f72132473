"""Batch work by spreadsheet against the database: plan, preview, apply, undo, export."""
