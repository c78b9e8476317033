"""The worker: scheduled jobs beside the API (in-process by default) or on its own."""
