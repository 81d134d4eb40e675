"""Reading other people's spreadsheets (.xlsx, .csv) row by row, within limits that no file can talk its way past."""
