"""Spreadsheet files, read and written, knowing nothing of the database: files into rows of
cell text (python-calamine, csv), header rows into fields, rows into batch rows, and the
workbooks the bot writes (openpyxl)."""
