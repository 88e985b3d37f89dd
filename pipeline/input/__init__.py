"""What comes in.

``volumes``: volume folders and their pages, in order; ``descriptor``: the ``volume.toml`` model;
``catalogue``: batch sheets (CSV, XLSX) and MARC records describing the volumes.
"""
