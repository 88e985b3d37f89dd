"""What comes in.

Volume folders and their pages, the volume.toml descriptor.
"""
