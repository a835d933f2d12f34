"""One router per resource. create_app decides which are public and which need a token."""
