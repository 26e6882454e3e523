"""Operating the bot: metrics, health and readiness, served in both Slack modes."""
