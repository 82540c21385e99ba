"""The HTTP routes (discovery, hook calls, feedback, health): thin; they parse, call the pipeline, answer."""
