"""Settings: environment variables and the optional approval rules file, checked all at once."""

from bot.config.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_SLACK_API_URL,
    SIMULATED_DATABASE_URL,
    ConfigError,
    Settings,
    env_names,
    load_dotenv_file,
    load_settings,
    print_problems,
)

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_SLACK_API_URL",
    "SIMULATED_DATABASE_URL",
    "ConfigError",
    "Settings",
    "env_names",
    "load_dotenv_file",
    "load_settings",
    "print_problems",
]
