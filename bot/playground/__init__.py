"""The Slack playground: use the bot in a browser page as if it were Slack, with no Slack workspace.

`python -m bot.playground` (`make demo`) starts the Genesys simulator with the demo org, a fake Slack
(`slack_api.FakeSlack`, also used by the tests) that serves the Web API and the page, and the bot
itself as `python app.py --http`. Every click on the page becomes a signed Slack request to the
bot's real `/slack/events`; everything the bot sends to the Web API is rendered back.
"""
