"""A volume's reading copy as a PDF: page images under an invisible, searchable text layer."""
