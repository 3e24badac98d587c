"""The REST API (FastAPI), mounted in front of Reflex on the same port."""
