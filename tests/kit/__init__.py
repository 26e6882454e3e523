"""One kit for the end-to-end tests and the benchmark: the bot's environment, a signing Slack
client, the bot in-process or as its own OS process, and free ports. The fake Slack Web API
itself lives in bot/playground/slack_api.py (the playground uses it too)."""
