"""pressbot: press-release monitoring and digest bot for Russian regional news."""

__version__ = "0.1.0"
