"""Transcription files as inputs: PAGE XML, ALTO, hOCR and plain text, read into one model.

Human or HTR text made in eScriptorium, Transkribus or by hand (``transcriptions/VOLUME/``)
is read here into :class:`~pipeline.input.transcripts.model.Transcript`, in the coordinates of
the image the file describes; the stage that uses it scales them to the canvas.
"""
