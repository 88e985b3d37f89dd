"""Full-text search of the volumes' text, and the IIIF Content Search services that answer it."""
