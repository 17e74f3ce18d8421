"""Commands that talk to a real AWS account: watch, route, drill (clients passed in)."""
