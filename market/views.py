"""In-house services: an authority's commissioners record and close their own homes and fostering service."""
