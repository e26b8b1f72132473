"""Batch work by spreadsheet: read, match headers, plan, apply, write workbooks."""
