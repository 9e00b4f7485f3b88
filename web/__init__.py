"""The Flask web app (a later issue builds it)."""
