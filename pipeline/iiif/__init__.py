"""IIIF building blocks, knowing nothing of stages or runs.

Image API info.json and replay, language maps and the HTML rules, manifest parts, canvases,
ranges and JSON output.
"""
