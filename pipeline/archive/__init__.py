"""What a run leaves behind for people and archives.

Fixity records and verify, BagIt export, the run report and the review list.
"""
