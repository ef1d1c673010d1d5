"""Demo stand-ins for the outside world (apps Lanyard talks to over HTTP only)."""
