"""Lambda handlers. Each is thin: parse the event, call the shared logic, shape the response."""
