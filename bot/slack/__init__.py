"""The Slack app: Bolt listeners by surface, Block Kit builders, Socket Mode and HTTP serving."""
