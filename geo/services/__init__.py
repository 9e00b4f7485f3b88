"""The application layer the command line and the web call."""
